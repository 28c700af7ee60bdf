//! The parser from the plain input (`BookDoc`) to the model every renderer reads (`Book`): metadata
//! sanitized, chapters split into blocks (paragraphs, headings, scene breaks) and inline runs. The
//! model's types live in `model.rs`, which depends on nothing here.

use crate::inline::parse_inline;
use crate::labels::Labels;
use crate::model::{Block, Book, BookDoc, Chapter, ChapterDoc, Run};
use crate::text::{sanitize, sanitize_line};

impl Book {
    /// Parses and sanitizes a `BookDoc`. Empty title/author get a readable
    /// placeholder rather than producing documents with blank metadata.
    pub fn parse(doc: &BookDoc) -> Book {
        let labels = Labels::for_language(doc.language);
        let title = non_empty(sanitize_line(&doc.title)).unwrap_or_else(|| labels.untitled.into());
        let author =
            non_empty(sanitize_line(&doc.author)).unwrap_or_else(|| labels.anonymous.into());
        let chapters = doc
            .chapters
            .iter()
            .enumerate()
            .map(|(i, ch)| parse_chapter(i + 1, ch, labels.chapter))
            .collect();
        Book {
            id: sanitize_line(&doc.id),
            title,
            subtitle: non_empty(sanitize_line(&doc.subtitle)),
            author,
            language: doc.language,
            synopsis: non_empty(
                sanitize(&doc.synopsis)
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            dedication: non_empty(sanitize_line(&doc.dedication)),
            copyright: non_empty(sanitize_line(&doc.copyright)),
            cover_jpeg: None,
            is_demo: doc.is_demo,
            date: doc.date,
            chapters,
        }
    }
}

fn non_empty(s: String) -> Option<String> {
    if s.is_empty() {
        None
    } else {
        Some(s)
    }
}

fn parse_chapter(number: usize, ch: &ChapterDoc, chapter_label: &str) -> Chapter {
    let title =
        non_empty(sanitize_line(&ch.title)).unwrap_or_else(|| format!("{chapter_label} {number}"));
    let mut blocks = parse_blocks(&sanitize(&ch.text));
    // Models often repeat the chapter title as a first `#` heading; printing it
    // twice looks broken, so drop that one heading.
    if let Some(Block::Heading(runs)) = blocks.first() {
        if same_words(&runs_text(runs), &title) {
            blocks.remove(0);
        }
    }
    Chapter {
        number,
        title,
        blocks,
    }
}

/// The plain text of some runs, styles dropped.
pub fn runs_text(runs: &[Run]) -> String {
    runs.iter().map(|r| r.text.as_str()).collect()
}

/// True when the heading's words are the title's words, possibly after a
/// prefix such as "Chapter 3:" (compared word by word, so "No" never matches
/// the end of "Casino").
fn same_words(heading: &str, title: &str) -> bool {
    let words = |s: &str| -> Vec<String> {
        s.chars()
            .map(|c| if c.is_alphanumeric() { c } else { ' ' })
            .flat_map(char::to_lowercase)
            .collect::<String>()
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    };
    let (heading, title) = (words(heading), words(title));
    !title.is_empty() && heading.ends_with(&title)
}

/// Splits chapter prose into blocks: blank lines end paragraphs, a line of
/// only `*`, `-`, `_` (three or more) is a scene break, `#` starts a heading.
pub fn parse_blocks(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut para: Vec<&str> = Vec::new();
    let flush = |para: &mut Vec<&str>, blocks: &mut Vec<Block>| {
        if !para.is_empty() {
            let joined = para.join(" ");
            para.clear();
            let runs = parse_inline(&joined);
            if !runs.is_empty() {
                blocks.push(Block::Paragraph(runs));
            }
        }
    };
    for raw in text.lines() {
        let line = raw.trim();
        if line.is_empty() {
            flush(&mut para, &mut blocks);
        } else if is_scene_break(line) {
            flush(&mut para, &mut blocks);
            // Two breaks in a row, or a break opening the chapter, carry no meaning.
            if !matches!(blocks.last(), None | Some(Block::SceneBreak)) {
                blocks.push(Block::SceneBreak);
            }
        } else if let Some(heading) = heading_text(line) {
            flush(&mut para, &mut blocks);
            let runs = parse_inline(heading);
            if !runs.is_empty() {
                blocks.push(Block::Heading(runs));
            }
        } else {
            para.push(line);
        }
    }
    flush(&mut para, &mut blocks);
    if matches!(blocks.last(), Some(Block::SceneBreak)) {
        blocks.pop();
    }
    blocks
}

fn is_scene_break(line: &str) -> bool {
    let marks: Vec<char> = line.chars().filter(|c| !c.is_whitespace()).collect();
    if line == "#" || marks.iter().all(|&c| c == '⁂') && !marks.is_empty() {
        return true;
    }
    marks.len() >= 3
        && ['*', '-', '_', '~', '•']
            .iter()
            .any(|&m| marks.iter().all(|&c| c == m))
}

/// `## Title` → `Title`. A `#` glued to a word (`#hashtag`) is prose, not a heading.
fn heading_text(line: &str) -> Option<&str> {
    let hashes = line.chars().take_while(|&c| c == '#').count();
    if hashes == 0 || hashes > 6 {
        return None;
    }
    let rest = &line[hashes..];
    if !rest.starts_with([' ', '\t']) {
        return None;
    }
    let text = rest.trim().trim_end_matches('#').trim_end();
    (!text.is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(s: &str) -> Vec<Run> {
        vec![Run {
            text: s.into(),
            italic: false,
            bold: false,
        }]
    }

    #[test]
    fn blank_lines_split_paragraphs_and_single_newlines_join() {
        let blocks = parse_blocks("Uno\ndos.\n\n\nTres.");
        assert_eq!(
            blocks,
            vec![
                Block::Paragraph(plain("Uno dos.")),
                Block::Paragraph(plain("Tres."))
            ]
        );
    }

    #[test]
    fn scene_breaks_and_headings() {
        let blocks = parse_blocks("A.\n\n* * *\n\nB.\n***\n## La noche\nC.\n---\n");
        assert_eq!(
            blocks,
            vec![
                Block::Paragraph(plain("A.")),
                Block::SceneBreak,
                Block::Paragraph(plain("B.")),
                Block::SceneBreak,
                Block::Heading(plain("La noche")),
                Block::Paragraph(plain("C.")),
            ]
        );
    }

    #[test]
    fn hashtag_is_not_a_heading() {
        assert_eq!(
            parse_blocks("#nofilter hoy"),
            vec![Block::Paragraph(plain("#nofilter hoy"))]
        );
    }

    #[test]
    fn repeated_chapter_title_heading_is_dropped() {
        let doc = ChapterDoc {
            title: "El faro".into(),
            text: "# Capítulo 1: El faro\n\nTexto.".into(),
        };
        let ch = parse_chapter(1, &doc, "Capítulo");
        assert_eq!(ch.blocks, vec![Block::Paragraph(plain("Texto."))]);
    }
}
