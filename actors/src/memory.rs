//! The book's memory of a finished chapter, read whole: a chapter longer than one summary call can
//! read is cut into parts (each chunk, and a chunk longer than the limit into slices), every part
//! becomes a short note, and the notes, not a head-and-tail excerpt, feed the rolling summary and
//! the story ledger. Every request here is bounded by `summary_source_chars` plus fixed overhead.

use std::fmt::Write as _;

use crate::config::EngineConfig;
use crate::model::Architecture;
use crate::ports::{CallPurpose, CompletionRequest};
use crate::prompt::{chapter_call, head};

/// Fewest chars a note may use, however many parts a chapter has.
const MIN_NOTE_CHARS: usize = 160;

/// The parts of a chapter, each at most `max` chars: its chunks, a longer chunk cut at whitespace.
/// One part when the whole chapter fits (then no note is needed).
pub fn chapter_parts(chunks: &[String], max: usize) -> Vec<String> {
    let max = max.max(1);
    let whole: usize = chunks.iter().map(|c| c.chars().count() + 1).sum();
    if whole <= max {
        return vec![chunks.join("\n")];
    }
    let mut parts = Vec::new();
    for chunk in chunks {
        let mut rest = chunk.trim();
        while !rest.is_empty() {
            let cut = match rest.char_indices().nth(max) {
                None => rest.len(),
                // Cut at the last whitespace before the limit (a word is never split unless it is
                // longer than a whole part).
                Some((limit, _)) => rest[..limit]
                    .rfind(char::is_whitespace)
                    .filter(|&i| i > 0)
                    .unwrap_or(limit),
            };
            parts.push(rest[..cut].to_string());
            rest = rest[cut..].trim_start();
        }
    }
    parts
}

/// Chars each note may use so that all of a chapter's notes fit in one summary call.
pub fn note_chars(parts: usize, config: &EngineConfig) -> usize {
    (config.summary_source_chars / parts.max(1))
        .saturating_sub(40)
        .max(MIN_NOTE_CHARS)
}

/// The request for the note on part `part` (0-based) of `parts` of a finished chapter.
pub fn note_request(
    a: &Architecture,
    chapter_index: usize,
    (part, parts): (usize, usize),
    text: &str,
    book_id: &str,
    max_output_tokens: u32,
    config: &EngineConfig,
) -> CompletionRequest {
    let chars = note_chars(parts, config);
    let words = (chars / 7).max(20);
    let title = a
        .chapters
        .get(chapter_index)
        .map(|c| c.title.as_str())
        .unwrap_or_default();
    let mut u = String::new();
    let _ = writeln!(
        u,
        "## Chapter {} \"{}\", part {} of {parts}\n{}\n",
        chapter_index + 1,
        head(title, 80),
        part + 1,
        head(text, config.summary_source_chars)
    );
    let _ = write!(
        u,
        "Write a note on this part for the book's memory: what happens, every named character, \
         place and concrete fact it introduces or changes. At most {words} words. Answer with the \
         note only."
    );
    let max_tokens = u32::try_from(chars / 3)
        .unwrap_or(u32::MAX)
        .clamp(48, max_output_tokens.max(48));
    let mut request = chapter_call(
        CallPurpose::Note,
        "You take concise, factual notes on a book as it is written.",
        u,
        (max_tokens, 0.2),
        (a, chapter_index),
        book_id,
    );
    request.context.part_index = Some(part);
    request.context.parts_in_chapter = Some(parts);
    request.context.word_budget = Some(u32::try_from(words).unwrap_or(u32::MAX));
    request
}

/// The notes as the chapter's source for the summary and the ledger (each cut to its share).
pub fn notes_source(notes: &[String], config: &EngineConfig) -> String {
    let chars = note_chars(notes.len(), config);
    let mut s = String::new();
    for (i, n) in notes.iter().enumerate() {
        let _ = writeln!(s, "Notes on part {}: {}", i + 1, head(n.trim(), chars));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_chapter_is_one_part_and_a_long_one_is_cut_at_words() {
        let short = vec!["one two".to_string(), "three".to_string()];
        assert_eq!(chapter_parts(&short, 100), vec!["one two\nthree"]);
        let long = vec!["aaaa bbbb cccc dddd".to_string(), "ee".to_string()];
        let parts = chapter_parts(&long, 10);
        assert_eq!(parts, vec!["aaaa bbbb", "cccc dddd", "ee"]);
        assert!(parts.iter().all(|p| p.chars().count() <= 10));
    }

    #[test]
    fn the_notes_of_any_chapter_fit_one_summary_call() {
        let config = EngineConfig::default();
        for parts in [2, 5, 10, 40] {
            let notes = vec!["x".repeat(10_000); parts];
            let s = notes_source(&notes, &config);
            let bound = config
                .summary_source_chars
                .max(parts * (MIN_NOTE_CHARS + 40));
            assert!(s.chars().count() <= bound, "{parts} parts: {}", s.len());
        }
    }
}
