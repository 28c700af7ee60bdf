//! The continuity audit of a finished chapter: the request comparing it with the bible, the story
//! ledger, the story so far and the chapter's plan, and the strict reading of the answer. No
//! evidence, no finding: a finding whose `quote` does not occur verbatim in the chapter is dropped.

use std::fmt::Write as _;

use crate::config::EngineConfig;
use crate::model::{Architecture, Finding, FindingKind};
use crate::ports::{CallPurpose, CompletionRequest};
use crate::prompt::{bible_text, chapter_call, head, learned_text};

/// Chars kept of a finding's quote, explanation and suggestion.
pub const QUOTE_CHARS: usize = 400;
pub const NOTE_CHARS: usize = 600;

/// Marks the system prompt of an audit request (the fake provider recognises it by this).
pub const AUDIT_SYSTEM: &str = "You are the continuity editor of a book. You compare a finished \
chapter with the book's bible, its story ledger, the story so far and the chapter's plan, and report \
contradictions. Answer with exactly one JSON object and nothing else.";

/// Where the chapter's text starts and ends in an audit prompt.
pub const TEXT_START: &str = "## Chapter text";
pub const TEXT_END: &str = "## End of chapter text";

/// The audit request for `text` (the chapter, or one part of a long chapter, at most
/// `audit_source_chars`). Bounded: bible, ledger and summary are cut to their configured sizes.
pub fn audit_request(
    a: &Architecture,
    chapter_index: usize,
    story_so_far: Option<&str>,
    text: &str,
    book_id: &str,
    max_output_tokens: u32,
    config: &EngineConfig,
) -> CompletionRequest {
    let chapter = a.chapters.get(chapter_index);
    let title = chapter.map(|c| c.title.as_str()).unwrap_or_default();
    let mut u = String::new();
    let bible = bible_text(a, config.bible_chars);
    if !bible.is_empty() {
        let _ = writeln!(u, "## Bible\n{bible}");
    }
    let learned = learned_text(&a.bible.learned, config.ledger_chars);
    if !learned.is_empty() {
        let _ = writeln!(u, "## Story ledger\n{learned}");
    }
    if let Some(s) = story_so_far.filter(|s| !s.is_empty()) {
        let _ = writeln!(u, "## Story so far\n{}\n", head(s, config.summary_chars));
    }
    let _ = writeln!(
        u,
        "## Plan of chapter {} \"{}\"",
        chapter_index + 1,
        head(title, 80)
    );
    if let Some(c) = chapter {
        let _ = writeln!(u, "{}", head(&c.summary, 800));
        for k in c.key_points.iter().take(12) {
            let _ = writeln!(u, "- {}", head(k, 200));
        }
    }
    let _ = writeln!(
        u,
        "\n{TEXT_START}\n{}\n{TEXT_END}\n",
        head(text, config.audit_source_chars)
    );
    let _ = write!(
        u,
        "Report at most {} findings where the chapter contradicts the bible, the ledger, the story \
         so far or its plan, or breaks the style rules. Each quote must be copied exactly from the \
         chapter text (one sentence or less). Answer with one JSON object: {{\"findings\":[{{\"kind\":\
         \"character|timeline|fact|outline|style\",\"severity\":1,\"quote\":\"\",\"explanation\":\"\",\
         \"suggestion\":\"\"}}]}} — an empty list when there is nothing to fix.",
        config.audit_max_findings
    );
    chapter_call(
        CallPurpose::Audit,
        AUDIT_SYSTEM,
        u,
        (2_000.min(max_output_tokens.max(64)), 0.0),
        (a, chapter_index),
        book_id,
    )
}

/// The chapter text quoted in an audit prompt (for writers that answer from the prompt).
pub fn quoted_text(prompt: &str) -> Option<&str> {
    let start = prompt.find(TEXT_START)? + TEXT_START.len();
    let end = prompt[start..].find(TEXT_END)? + start;
    Some(prompt[start..end].trim())
}

/// The findings of an answer that hold: a known kind, a quote found verbatim in `chapter`, an
/// explanation; severity clamped to 1–3; the most severe first, at most `max`. An answer without a
/// JSON object yields nothing (the audit is advice, never a reason to stop a book).
pub fn parse_findings(answer: &str, chapter: &str, max: usize) -> Vec<Finding> {
    let Some(json) = crate::architecture::extract_json_object(answer) else {
        return Vec::new();
    };
    let Ok(v) = serde_json::from_str::<serde_json::Value>(json) else {
        return Vec::new();
    };
    let text = |f: &serde_json::Value, k: &str| {
        f.get(k)
            .and_then(|s| s.as_str())
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    let mut out: Vec<Finding> = v
        .get("findings")
        .and_then(|f| f.as_array())
        .into_iter()
        .flatten()
        .filter_map(|f| {
            let kind = FindingKind::parse(f.get("kind")?.as_str()?)?;
            let quote = text(f, "quote");
            if quote.is_empty() || quote.chars().count() > QUOTE_CHARS || !chapter.contains(&quote)
            {
                return None;
            }
            let explanation = head(&text(f, "explanation"), NOTE_CHARS);
            if explanation.is_empty() {
                return None;
            }
            let severity = f.get("severity").and_then(|s| s.as_u64()).unwrap_or(1);
            Some(Finding {
                kind,
                severity: u8::try_from(severity.clamp(1, 3)).unwrap_or(1),
                quote,
                explanation,
                suggestion: head(&text(f, "suggestion"), NOTE_CHARS),
            })
        })
        .collect();
    out.sort_by_key(|f| std::cmp::Reverse(f.severity));
    out.dedup_by(|a, b| a.quote == b.quote && a.kind == b.kind);
    out.truncate(max);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHAPTER: &str = "Mira was twelve that winter. She crossed the bridge at dawn.";

    #[test]
    fn a_finding_without_its_quote_in_the_chapter_is_dropped() {
        let answer = r#"```json
        {"findings":[
          {"kind":"fact","severity":3,"quote":"Mira was twelve that winter.","explanation":"She was ten in chapter 1.","suggestion":"Make her ten."},
          {"kind":"timeline","severity":2,"quote":"She crossed the river at noon.","explanation":"invented","suggestion":"x"},
          {"kind":"mood","severity":1,"quote":"She crossed the bridge at dawn.","explanation":"unknown kind","suggestion":"x"},
          {"kind":"style","severity":9,"quote":"She crossed the bridge at dawn.","explanation":"Too plain.","suggestion":""}
        ]}```"#;
        let f = parse_findings(answer, CHAPTER, 8);
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].kind, FindingKind::Fact);
        assert_eq!(f[0].quote, "Mira was twelve that winter.");
        assert_eq!(f[1].severity, 3, "clamped");
        assert!(f.iter().all(|x| CHAPTER.contains(&x.quote)));
        assert!(parse_findings("nothing to report", CHAPTER, 8).is_empty());
        assert_eq!(parse_findings(answer, CHAPTER, 1).len(), 1);
    }

    #[test]
    fn the_prompt_quotes_the_chapter_between_markers() {
        let mut a = Architecture::default();
        a.chapters.push(crate::model::ChapterPlan {
            title: "One".into(),
            ..Default::default()
        });
        let r = audit_request(&a, 0, None, CHAPTER, "b", 4000, &EngineConfig::default());
        assert_eq!(quoted_text(&r.messages[0].content), Some(CHAPTER));
    }
}
