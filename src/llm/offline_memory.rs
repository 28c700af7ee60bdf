//! How the offline writer and the fake provider answer the engine's memory calls in kind: the story
//! ledger as JSON (the generator's names and places found in the chapter the prompt quotes) and the
//! continuity audit as JSON findings quoting the chapter. Deterministic: the same prompt, the same
//! answer. The fake provider also adds a finding whose quote is not in the chapter, so tests see the
//! engine drop it; the offline writer, shown to people, does not.

use buko_actors::audit::{quoted_text, AUDIT_SYSTEM};
use buko_actors::ledger::LEDGER_SYSTEM;
use buko_actors::Language;
use serde_json::json;

use super::offline_text::vocabulary;

/// The answer to a ledger or audit request (recognised by its system prompt), else `None`.
pub fn memory_answer(system: &str, user: &str, language: Language, fake: bool) -> Option<String> {
    if system.contains(LEDGER_SYSTEM) {
        Some(ledger_answer(user, language))
    } else if system.contains(AUDIT_SYSTEM) {
        Some(audit_answer(user, language, fake))
    } else {
        None
    }
}

/// The chapter's number in a memory prompt ("## Chapter 3 …" or "## Plan of chapter 3 …").
fn chapter_number(user: &str) -> usize {
    user.lines()
        .filter_map(|l| {
            let rest = l
                .strip_prefix("## Chapter ")
                .or_else(|| l.strip_prefix("## Plan of chapter "))?;
            rest.split_whitespace().next()?.parse().ok()
        })
        .next()
        .unwrap_or(1)
}

fn ledger_answer(user: &str, language: Language) -> String {
    // Only the chapter's part of the prompt: the lists of what is already known come before it.
    let chapter = user.find("## Chapter ").map_or(user, |i| &user[i..]);
    let n = chapter_number(user);
    let (names, places) = vocabulary(language);
    let role = match language {
        Language::En => format!("appears in chapter {n}"),
        Language::Es => format!("aparece en el capítulo {n}"),
    };
    let characters: Vec<_> = names
        .iter()
        .filter(|name| chapter.contains(*name))
        .map(|name| json!({ "name": name, "role": role, "description": "" }))
        .collect();
    let places: Vec<_> = places
        .iter()
        .filter(|p| chapter.contains(*p))
        .take(6)
        .map(|p| {
            let mut name = p.to_string();
            if let Some(first) = name.get_mut(..1) {
                first.make_ascii_uppercase();
            }
            json!({ "name": name, "description": role })
        })
        .collect();
    json!({ "characters": characters, "places": places, "facts": [] }).to_string()
}

/// The first sentence of `text` that is long enough to be worth quoting.
fn a_sentence(text: &str) -> Option<&str> {
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if matches!(c, '.' | '!' | '?') {
            let s = text[start..=i].trim();
            if s.split_whitespace().count() >= 6 {
                return Some(s);
            }
            start = i + c.len_utf8();
        }
    }
    None
}

fn audit_answer(user: &str, language: Language, fake: bool) -> String {
    let mut findings = Vec::new();
    if let Some(sentence) = quoted_text(user).and_then(a_sentence) {
        let (explanation, suggestion) = match language {
            Language::En => (
                "Demo finding: this sentence is built from a template the offline writer reuses.",
                "Rephrase this sentence in the book's own voice.",
            ),
            Language::Es => (
                "Hallazgo de demostración: esta frase sale de una plantilla que el escritor sin conexión repite.",
                "Reescribe esta frase con la voz propia del libro.",
            ),
        };
        findings.push(json!({ "kind": "style", "severity": 1, "quote": sentence,
                              "explanation": explanation, "suggestion": suggestion }));
    }
    if fake {
        findings.push(json!({ "kind": "fact", "severity": 3,
            "quote": "This sentence was never written in the chapter.",
            "explanation": "An unfounded finding: its quote is not in the chapter.",
            "suggestion": "Nothing." }));
    }
    json!({ "findings": findings }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ledger_answer_lists_the_names_the_chapter_uses() {
        let (names, places) = vocabulary(Language::En);
        let user = format!(
            "## Already in the ledger\n- {} (x)\n## Chapter 2 \"T\"\n{} went to {}.\nList",
            names[1], names[0], places[0]
        );
        let v: serde_json::Value =
            serde_json::from_str(&ledger_answer(&user, Language::En)).expect("json");
        assert_eq!(v["characters"].as_array().map(Vec::len), Some(1));
        assert_eq!(v["characters"][0]["name"], names[0]);
        assert_eq!(v["characters"][0]["role"], "appears in chapter 2");
        assert_eq!(v["places"].as_array().map(Vec::len), Some(1));
    }

    #[test]
    fn the_audit_answer_quotes_the_chapter_and_the_fake_adds_an_unfounded_finding() {
        let chapter = "Short. The rain fell over the old library all night long. End.";
        let user = format!(
            "{}\n{chapter}\n{}\nReport",
            buko_actors::audit::TEXT_START,
            buko_actors::audit::TEXT_END
        );
        let offline = audit_answer(&user, Language::En, false);
        let kept = buko_actors::audit::parse_findings(&offline, chapter, 8);
        assert_eq!(kept.len(), 1);
        assert_eq!(
            kept[0].quote,
            "The rain fell over the old library all night long."
        );
        let fake = audit_answer(&user, Language::En, true);
        assert_eq!(
            buko_actors::audit::parse_findings(&fake, chapter, 8).len(),
            1
        );
        assert!(fake.contains("never written"));
    }
}
