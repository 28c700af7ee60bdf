//! Markdown export: YAML front matter, title block, copyright notes, a
//! contents list and one `## ` heading per chapter. Every piece of book text
//! is escaped so it reads back as the same text, never as markup; the chapter
//! headings are the only `## ` lines, so they round-trip to the titles.

use std::fmt::Write as _;

use crate::labels::Labels;
use crate::model::{Block, Book, Run};
use crate::text::{escape_line_start, markdown_escape, markdown_escape_line};

pub fn render(book: &Book) -> String {
    let labels = Labels::for_language(book.language);
    let mut out = String::with_capacity(estimated_len(book));
    front_matter(book, &mut out);

    let _ = writeln!(out, "# {}\n", markdown_escape_line(&book.title));
    if let Some(subtitle) = &book.subtitle {
        let _ = writeln!(out, "*{}*\n", markdown_escape(subtitle));
    }
    let _ = writeln!(out, "{} {}\n", labels.by, markdown_escape(&book.author));
    if let Some(dedication) = &book.dedication {
        let _ = writeln!(out, "*{}*\n", markdown_escape(dedication));
    }
    if let Some(synopsis) = &book.synopsis {
        let _ = writeln!(out, "> {}\n", markdown_escape(synopsis));
    }
    if book.is_demo {
        let _ = writeln!(out, "> **{}**\n", markdown_escape(labels.demo_notice));
    }
    let _ = writeln!(out, "{}  ", markdown_escape(&labels.copyright_line(book)));
    let _ = writeln!(out, "{}\n", markdown_escape(&labels.edition_line(book)));

    // A bold label, not a heading: `## ` lines are reserved for chapters.
    let _ = writeln!(out, "**{}**\n", labels.contents);
    for ch in &book.chapters {
        let _ = writeln!(out, "{}. {}", ch.number, markdown_escape(&ch.title));
    }
    out.push('\n');

    for ch in &book.chapters {
        let _ = writeln!(out, "## {}\n", markdown_escape_line(&ch.title));
        for block in &ch.blocks {
            match block {
                Block::Paragraph(runs) => {
                    out.push_str(&escape_line_start(runs_markdown(runs)));
                    out.push_str("\n\n");
                }
                Block::Heading(runs) => {
                    let _ = writeln!(out, "### {}\n", runs_markdown(runs));
                }
                Block::SceneBreak => out.push_str("* * *\n\n"),
            }
        }
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

/// JSON strings are valid YAML double-quoted scalars, so serde_json does the
/// quoting and no title can break out of its field.
fn front_matter(book: &Book, out: &mut String) {
    let q = |s: &str| serde_json::Value::from(s).to_string();
    out.push_str("---\n");
    let _ = writeln!(out, "title: {}", q(&book.title));
    if let Some(subtitle) = &book.subtitle {
        let _ = writeln!(out, "subtitle: {}", q(subtitle));
    }
    let _ = writeln!(out, "author: {}", q(&book.author));
    let _ = writeln!(out, "lang: {}", book.language.code());
    let _ = writeln!(out, "date: {}", book.date.format("%Y-%m-%d"));
    let _ = writeln!(out, "identifier: {}", q(&book.id));
    if let Some(synopsis) = &book.synopsis {
        let _ = writeln!(out, "description: {}", q(synopsis));
    }
    let _ = writeln!(out, "demo: {}", book.is_demo);
    out.push_str("---\n\n");
}

/// Emphasis markers hug the text: whitespace at a run's edges goes outside
/// the `*`, because `*word *` is not emphasis in CommonMark.
fn runs_markdown(runs: &[Run]) -> String {
    let mut out = String::new();
    for run in runs {
        let marks = match (run.italic, run.bold) {
            (false, false) => "",
            (true, false) => "*",
            (false, true) => "**",
            (true, true) => "***",
        };
        let core = run.text.trim();
        if marks.is_empty() || core.is_empty() {
            out.push_str(&markdown_escape(&run.text));
            continue;
        }
        let lead = &run.text[..run.text.len() - run.text.trim_start().len()];
        let trail = &run.text[run.text.trim_end().len()..];
        let _ = write!(out, "{lead}{marks}{}{marks}{trail}", markdown_escape(core));
    }
    out
}

fn estimated_len(book: &Book) -> usize {
    let text: usize = book
        .chapters
        .iter()
        .flat_map(|c| &c.blocks)
        .map(|b| match b {
            Block::Paragraph(r) | Block::Heading(r) => r.iter().map(|r| r.text.len() + 6).sum(),
            Block::SceneBreak => 8,
        })
        .sum();
    text + 4096
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{BookDoc, ChapterDoc, Language};

    fn book(title: &str, chapter: &str, text: &str) -> Book {
        Book::parse(&BookDoc {
            id: "id-1".into(),
            title: title.into(),
            subtitle: String::new(),
            author: "Ana".into(),
            language: Language::Es,
            synopsis: String::new(),
            dedication: String::new(),
            copyright: String::new(),
            is_demo: true,
            date: chrono::NaiveDate::from_ymd_opt(2026, 1, 2).expect("date"),
            chapters: vec![ChapterDoc {
                title: chapter.into(),
                text: text.into(),
            }],
        })
    }

    #[test]
    fn chapter_headings_and_emphasis() {
        let md = render(&book(
            "T",
            "El *primer* día",
            "Hola **mundo** y *adiós*.\n\n***\n\n# Parte",
        ));
        assert!(md.contains("\n## El \\*primer\\* día\n"), "{md}");
        assert!(
            md.contains("Hola **mundo** y *adiós*.\n\n* * *\n\n### Parte\n"),
            "{md}"
        );
        assert!(md.contains("Texto de demostración sin conexión"), "{md}");
    }

    #[test]
    fn front_matter_quotes_hostile_titles() {
        let md = render(&book("a\"\n: b", "x", "y"));
        assert!(md.starts_with("---\ntitle: \"a\\\" : b\"\n"), "{md}");
    }
}
