//! Prompts for chunks and rolling summaries. Every section is cut to a configured size, so a chunk's
//! prompt is bounded whatever the book's length: book + bible + outline of titles (the stable prefix,
//! byte-identical for every chunk of a book so providers can cache it; its length is
//! `RequestContext::stable_prefix`) + story ledger + rolling summary + tail of the previous chunk + this chunk's goal.
//! The `RequestContext` carries the same facts in structured form.
//! (The bound is stated in docs/ENGINE.md.)

use std::fmt::Write as _;

use crate::config::EngineConfig;
use crate::model::{Architecture, Language, Ledger};
use crate::plan::PlannedChunk;
use crate::ports::{CallPurpose, CompletionRequest, Message, RequestContext, Role};

const TITLE_CHARS: usize = 80;
const SYNOPSIS_CHARS: usize = 800;
const CHAPTER_SUMMARY_CHARS: usize = 800;
const KEY_POINTS: usize = 12;
const KEY_POINT_CHARS: usize = 200;
/// Bound of the outline of titles (≈ 100 chapters of 80-char titles).
const OUTLINE_CHARS: usize = 8_000;

/// The first `max` chars of `s` (with an ellipsis when cut).
pub fn head(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// The last `max` chars of `s`.
pub fn tail(s: &str, max: usize) -> &str {
    let n = s.chars().count();
    if n <= max {
        return s;
    }
    let start = s.char_indices().nth(n - max).map_or(0, |(i, _)| i);
    &s[start..]
}

fn language_name(l: Language) -> &'static str {
    match l {
        Language::En => "English",
        Language::Es => "Spanish",
    }
}

/// The planned bible as a prompt section, cut to `max` chars.
pub fn bible_text(a: &Architecture, max: usize) -> String {
    let mut s = String::new();
    for c in &a.bible.characters {
        let _ = write!(
            s,
            "- {} ({})",
            head(&c.name, TITLE_CHARS),
            head(&c.role, TITLE_CHARS)
        );
        if let Some(d) = &c.description {
            let _ = write!(s, ": {}", head(d, 300));
        }
        s.push('\n');
    }
    for f in &a.bible.facts {
        let _ = writeln!(s, "- Fact: {}", head(f, 300));
    }
    for r in &a.bible.style {
        let _ = writeln!(s, "- Style: {}", head(r, 300));
    }
    head(&s, max)
}

/// The story ledger (`bible.learned`) as a prompt section, cut to `max` chars (entries in the order they were learned).
pub fn learned_text(l: &Ledger, max: usize) -> String {
    let mut s = String::new();
    for c in &l.characters {
        let _ = write!(s, "- {} ({})", c.name, c.role);
        if let Some(d) = &c.description {
            let _ = write!(s, ": {d}");
        }
        s.push('\n');
    }
    for p in &l.places {
        let _ = write!(s, "- Place: {}", p.name);
        if let Some(d) = &p.description {
            let _ = write!(s, ": {d}");
        }
        s.push('\n');
    }
    for f in &l.facts {
        let _ = writeln!(s, "- Fact: {f}");
    }
    head(&s, max)
}

/// Every chapter's title in order, the same text for every chunk of the book (cut at `max` chars), so
/// it belongs to the prompt's cacheable prefix.
fn titles_text(a: &Architecture, max: usize) -> String {
    let mut s = String::new();
    for (i, ch) in a.chapters.iter().enumerate() {
        let _ = writeln!(s, "{}. {}", i + 1, head(&ch.title, TITLE_CHARS));
    }
    head(&s, max)
}

fn system_prompt(a: &Architecture) -> String {
    format!(
        "You are a professional author writing the book \"{}\" in {}. Tone: {}. Audience: {}. \
         Write only the book's prose for the requested part: no headings, notes or commentary.",
        head(&a.title, TITLE_CHARS),
        language_name(a.language),
        head(&a.tone, 200),
        head(&a.audience, 200),
    )
}

/// The request for one chunk. `rolling_summary` is the story so far, `previous_tail` the end of the
/// previous chunk's text; both are cut here whatever their size.
pub fn chunk_request(
    a: &Architecture,
    chunk: &PlannedChunk,
    rolling_summary: Option<&str>,
    previous_tail: Option<&str>,
    book_id: &str,
    max_tokens: u32,
    config: &EngineConfig,
) -> CompletionRequest {
    let chapter = &a.chapters[chunk.chapter_index.min(a.chapters.len().saturating_sub(1))];
    let mut u = String::new();
    let _ = writeln!(u, "## Book\n{}", head(&a.title, TITLE_CHARS));
    if !a.synopsis.is_empty() {
        let _ = writeln!(u, "Synopsis: {}", head(&a.synopsis, SYNOPSIS_CHARS));
    }
    let bible = bible_text(a, config.bible_chars);
    if !bible.is_empty() {
        let _ = writeln!(u, "\n## Bible\n{bible}");
    }
    let _ = writeln!(u, "\n## Outline\n{}", titles_text(a, OUTLINE_CHARS));
    // Everything above is the same for every chunk of the book: the provider may cache it.
    let stable_prefix = u.len();
    // The ledger grows after each chapter: after the cached prefix, so it never invalidates it.
    let learned = learned_text(&a.bible.learned, config.ledger_chars);
    if !learned.is_empty() {
        let _ = writeln!(u, "\n## Learned from the text so far\n{learned}");
    }
    if let Some(summary) = rolling_summary.filter(|s| !s.is_empty()) {
        let _ = writeln!(
            u,
            "## Story so far\n{}\n",
            head(summary, config.summary_chars)
        );
    }
    if let Some(prev) = previous_tail.filter(|s| !s.is_empty()) {
        let _ = writeln!(
            u,
            "## The previous text ends with\n…{}\n",
            tail(prev, config.tail_chars)
        );
    }
    let key_points: Vec<String> = chapter
        .key_points
        .iter()
        .take(KEY_POINTS)
        .map(|k| head(k, KEY_POINT_CHARS))
        .collect();
    let _ = writeln!(
        u,
        "## Your task\nWrite chapter {} \"{}\", part {} of {}, about {} words.",
        chunk.chapter_index + 1,
        head(&chapter.title, TITLE_CHARS),
        chunk.part_index + 1,
        chunk.parts_in_chapter,
        chunk.word_budget
    );
    if !chapter.summary.is_empty() {
        let _ = writeln!(
            u,
            "The chapter: {}",
            head(&chapter.summary, CHAPTER_SUMMARY_CHARS)
        );
    }
    for k in &key_points {
        let _ = writeln!(u, "- {k}");
    }
    u.push_str(if previous_tail.is_some() {
        "Continue seamlessly from the previous text."
    } else {
        "This is the opening of the book."
    });
    CompletionRequest {
        purpose: CallPurpose::Chunk,
        system: system_prompt(a),
        messages: vec![Message {
            role: Role::User,
            content: u,
        }],
        max_tokens,
        temperature: Some(0.8),
        context: RequestContext {
            book_id: Some(book_id.to_string()),
            language: a.language,
            book_title: Some(a.title.clone()),
            chapter_index: Some(chunk.chapter_index),
            chapter_title: Some(chapter.title.clone()),
            key_points,
            seq: Some(chunk.seq),
            part_index: Some(chunk.part_index),
            parts_in_chapter: Some(chunk.parts_in_chapter),
            word_budget: Some(chunk.word_budget),
            stable_prefix: Some(stable_prefix),
            ..RequestContext::default()
        },
    }
}

/// Most characters of an author's instruction quoted in a prompt.
pub const INSTRUCTION_CHARS: usize = 1_000;

/// `request` with the author's instruction for a rewrite added to its task (cut to
/// [`INSTRUCTION_CHARS`]); an empty instruction changes nothing.
pub fn with_instruction(mut request: CompletionRequest, instruction: &str) -> CompletionRequest {
    let instruction = instruction.trim();
    if instruction.is_empty() {
        return request;
    }
    if let Some(m) = request.messages.last_mut() {
        let _ = write!(
            m.content,
            "\n\n## The author's instruction for this rewrite\n{}",
            head(instruction, INSTRUCTION_CHARS)
        );
    }
    request
}

/// The request refreshing the rolling summary after `chapter_index` is finished. `chapter_text` is
/// the chapter, or the notes on its parts when it is longer than `summary_source_chars` (see
/// `memory`); should it still be longer, only its start and end are quoted.
pub fn summary_request(
    a: &Architecture,
    chapter_index: usize,
    previous_summary: Option<&str>,
    chapter_text: &str,
    book_id: &str,
    max_output_tokens: u32,
    config: &EngineConfig,
) -> CompletionRequest {
    let half = config.summary_source_chars / 2;
    let excerpt = if chapter_text.chars().count() > config.summary_source_chars {
        format!(
            "{}\n[…]\n{}",
            head(chapter_text, half),
            tail(chapter_text, half)
        )
    } else {
        chapter_text.to_string()
    };
    let title = a
        .chapters
        .get(chapter_index)
        .map(|c| c.title.as_str())
        .unwrap_or_default();
    let words = (config.summary_chars / 7).max(30);
    let mut u = String::new();
    if let Some(prev) = previous_summary.filter(|s| !s.is_empty()) {
        let _ = writeln!(u, "## Story so far\n{}\n", head(prev, config.summary_chars));
    }
    let _ = writeln!(
        u,
        "## Chapter {} \"{}\"\n{excerpt}\n",
        chapter_index + 1,
        head(title, TITLE_CHARS)
    );
    let _ = write!(
        u,
        "Rewrite the story-so-far summary so it includes this chapter: plot, characters' states, open \
         threads. At most {words} words, in {}. Answer with the summary only.",
        language_name(a.language)
    );
    // ~4 chars per token, with room to finish the last sentence.
    let max_tokens = u32::try_from(config.summary_chars / 3)
        .unwrap_or(u32::MAX)
        .clamp(64, max_output_tokens.max(64));
    let mut request = chapter_call(
        CallPurpose::Summary,
        "You keep a concise running summary of a book as it is written.",
        u,
        (max_tokens, 0.2),
        (a, chapter_index),
        book_id,
    );
    request.context.word_budget = Some(u32::try_from(words).unwrap_or(u32::MAX));
    request
}

/// A call about one chapter (summary, note, ledger, audit): `system`, one user turn, and the chapter's
/// facts in the context; callers add what else their call carries (part, word budget).
pub(crate) fn chapter_call(
    purpose: CallPurpose,
    system: &str,
    user: String,
    (max_tokens, temperature): (u32, f32),
    (a, chapter_index): (&Architecture, usize),
    book_id: &str,
) -> CompletionRequest {
    let title = a.chapters.get(chapter_index).map(|c| c.title.clone());
    CompletionRequest {
        purpose,
        system: system.to_string(),
        messages: vec![Message {
            role: Role::User,
            content: user,
        }],
        max_tokens,
        temperature: Some(temperature),
        context: RequestContext {
            book_id: Some(book_id.to_string()),
            language: a.language,
            book_title: Some(a.title.clone()),
            chapter_index: Some(chapter_index),
            chapter_title: Some(title.unwrap_or_default()),
            ..RequestContext::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_chunk_of_a_book_starts_with_the_same_bytes() {
        use crate::model::{ChapterPlan, Character};
        let mut a = Architecture {
            title: "Tides".into(),
            synopsis: "A keeper and the sea.".into(),
            chapters: (0..30)
                .map(|i| ChapterPlan {
                    title: format!("Chapter {i}"),
                    summary: format!("What happens in {i}"),
                    key_points: vec![format!("point {i}")],
                    target_words: 900,
                })
                .collect(),
            ..Architecture::default()
        };
        a.bible.characters.push(Character {
            name: "Ada".into(),
            role: "keeper".into(),
            description: Some("Counts the waves".into()),
        });
        let c = EngineConfig::default();
        let chunk = |seq: i64, chapter_index: usize| PlannedChunk {
            seq,
            chapter_index,
            part_index: 0,
            parts_in_chapter: 1,
            word_budget: 900,
        };
        let first = chunk_request(&a, &chunk(1, 0), None, None, "b", 4000, &c);
        let later = chunk_request(
            &a,
            &chunk(20, 19),
            Some("So far: the storm."),
            Some("…and the light went out."),
            "b",
            4000,
            &c,
        );
        let n = first.context.stable_prefix.expect("prefix");
        assert_eq!(Some(n), later.context.stable_prefix);
        assert_eq!(first.system, later.system);
        let (p1, p2) = (&first.messages[0].content, &later.messages[0].content);
        assert_eq!(p1[..n], p2[..n]);
        assert!(p1[..n].contains("30. Chapter 29") && p1[..n].contains("Ada"));
        assert!(!p1[..n].contains("What happens in 0") && p2[n..].contains("What happens in 19"));
        assert!(p2[n..].contains("the storm") && p2[n..].contains("light went out"));
    }

    #[test]
    fn head_and_tail_cut_on_char_boundaries() {
        assert_eq!(head("añoñe", 3), "año…");
        assert_eq!(head("ab", 3), "ab");
        assert_eq!(tail("añoñe", 2), "ñe");
        assert_eq!(tail("ab", 5), "ab");
    }

    #[test]
    fn an_instruction_reaches_the_task_and_an_empty_one_changes_nothing() {
        let request = || CompletionRequest {
            purpose: CallPurpose::Chunk,
            system: String::new(),
            messages: vec![Message {
                role: Role::User,
                content: "Write it.".into(),
            }],
            max_tokens: 10,
            temperature: None,
            context: RequestContext::default(),
        };
        let steered = with_instruction(request(), "  more dialogue ");
        assert!(steered.messages[0].content.ends_with("\nmore dialogue"));
        assert_eq!(
            with_instruction(request(), " ").messages[0].content,
            "Write it."
        );
    }
}
