//! The story ledger: characters, places and facts the text itself introduced, learned after each
//! chapter and kept in the bible (`bible.learned`) next to what the author planned. This module owns
//! its shape, the extraction request, the tolerant parse of the model's JSON and the bounded merge;
//! the store keeps it and the author edits it.

use std::fmt::Write as _;

use crate::config::EngineConfig;
use crate::model::{Architecture, Character, Ledger, Place};
use crate::ports::{CallPurpose, CompletionRequest};
use crate::prompt::{chapter_call, head, learned_text};

/// Most entries of each list kept, so the ledger (and the prompt quoting it) stays bounded whatever
/// the book's length: a merge past the limit keeps the oldest entries (introduced first, used most).
pub const MAX_LEARNED_CHARACTERS: usize = 60;
pub const MAX_LEARNED_PLACES: usize = 40;
pub const MAX_LEARNED_FACTS: usize = 80;
/// Chars of one learned name / description / fact.
pub const LEARNED_NAME_CHARS: usize = 80;
pub const LEARNED_TEXT_CHARS: usize = 240;

fn key(s: &str) -> String {
    s.trim().to_lowercase()
}

impl Ledger {
    /// Trims, cuts and drops empty or duplicate entries, and applies the size limits.
    pub fn normalized(mut self) -> Ledger {
        let mut out = Ledger::default();
        for mut c in self.characters.drain(..) {
            c.name = head(c.name.trim(), LEARNED_NAME_CHARS);
            c.role = head(c.role.trim(), LEARNED_NAME_CHARS);
            c.description = c
                .description
                .map(|d| head(d.trim(), LEARNED_TEXT_CHARS))
                .filter(|d| !d.is_empty());
            out.push_character(c);
        }
        for mut p in self.places.drain(..) {
            p.name = head(p.name.trim(), LEARNED_NAME_CHARS);
            p.description = p
                .description
                .map(|d| head(d.trim(), LEARNED_TEXT_CHARS))
                .filter(|d| !d.is_empty());
            out.push_place(p);
        }
        for f in self.facts.drain(..) {
            out.push_fact(head(f.trim(), LEARNED_TEXT_CHARS));
        }
        out
    }

    fn push_character(&mut self, c: Character) {
        if c.name.is_empty()
            || self.characters.len() >= MAX_LEARNED_CHARACTERS
            || self.characters.iter().any(|x| key(&x.name) == key(&c.name))
        {
            return;
        }
        self.characters.push(c);
    }

    fn push_place(&mut self, p: Place) {
        if p.name.is_empty()
            || self.places.len() >= MAX_LEARNED_PLACES
            || self.places.iter().any(|x| key(&x.name) == key(&p.name))
        {
            return;
        }
        self.places.push(p);
    }

    fn push_fact(&mut self, f: String) {
        if f.is_empty()
            || self.facts.len() >= MAX_LEARNED_FACTS
            || self.facts.iter().any(|x| key(x) == key(&f))
        {
            return;
        }
        self.facts.push(f);
    }

    /// `self` with the new entries of `more` appended; an entry already known (same name, case
    /// aside) keeps its current text, so an author's edit is never overwritten by a later chapter.
    /// Characters the author planned in the bible are not learned again.
    pub fn merged(&self, more: Ledger, planned: &Architecture) -> Ledger {
        let mut out = self.clone().normalized();
        let more = more.normalized();
        let planned_names: Vec<String> = planned
            .bible
            .characters
            .iter()
            .map(|c| key(&c.name))
            .collect();
        for c in more.characters {
            if !planned_names.contains(&key(&c.name)) {
                out.push_character(c);
            }
        }
        for p in more.places {
            out.push_place(p);
        }
        for f in more.facts {
            out.push_fact(f);
        }
        out
    }
}

/// Marks the system prompt of a ledger request (the fake provider recognises it by this).
pub const LEDGER_SYSTEM: &str = "You keep the story ledger of a book: the characters, places and \
facts its text introduces. Answer with exactly one JSON object and nothing else.";

/// The request extracting what `chapter_source` (the chapter's text, or its notes when long)
/// introduces. Bounded: the known ledger is cut to `ledger_chars`, the source to
/// `summary_source_chars`.
pub fn ledger_request(
    a: &Architecture,
    chapter_index: usize,
    chapter_source: &str,
    book_id: &str,
    max_output_tokens: u32,
    config: &EngineConfig,
) -> CompletionRequest {
    let title = a
        .chapters
        .get(chapter_index)
        .map(|c| c.title.as_str())
        .unwrap_or_default();
    let mut u = String::new();
    let planned: Vec<&str> = a.bible.characters.iter().map(|c| c.name.as_str()).collect();
    if !planned.is_empty() {
        let _ = writeln!(
            u,
            "## Planned characters\n{}\n",
            head(&planned.join(", "), 1_000)
        );
    }
    let known = learned_text(&a.bible.learned, config.ledger_chars);
    if !known.is_empty() {
        let _ = writeln!(u, "## Already in the ledger\n{known}");
    }
    let _ = writeln!(
        u,
        "## Chapter {} \"{}\"\n{}\n",
        chapter_index + 1,
        head(title, 80),
        head(chapter_source, config.summary_source_chars)
    );
    u.push_str(
        "List what this chapter introduces that is in neither list above: named characters (with \
         their role and one line on who they are), named places, and concrete facts later chapters \
         must respect (ages, dates, relations, objects, rules). Answer with one JSON object: \
         {\"characters\":[{\"name\":\"\",\"role\":\"\",\"description\":\"\"}],\
         \"places\":[{\"name\":\"\",\"description\":\"\"}],\"facts\":[\"\"]}",
    );
    chapter_call(
        CallPurpose::Ledger,
        LEDGER_SYSTEM,
        u,
        (1_500.min(max_output_tokens.max(64)), 0.0),
        (a, chapter_index),
        book_id,
    )
}

/// The ledger in a model's answer (fences and prose around the object tolerated); `None` when the
/// answer holds no usable object. Entries of an unexpected shape are skipped, not fatal.
pub fn parse_ledger(answer: &str) -> Option<Ledger> {
    let json = crate::architecture::extract_json_object(answer)?;
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    let list = |k: &str| {
        v.get(k)
            .and_then(|x| x.as_array())
            .cloned()
            .unwrap_or_default()
    };
    let text = |x: &serde_json::Value, k: &str| {
        x.get(k)
            .and_then(|s| s.as_str())
            .map(str::to_string)
            .unwrap_or_default()
    };
    let ledger = Ledger {
        characters: list("characters")
            .iter()
            .map(|c| Character {
                name: text(c, "name"),
                role: text(c, "role"),
                description: Some(text(c, "description")),
            })
            .collect(),
        places: list("places")
            .iter()
            .map(|p| Place {
                name: text(p, "name"),
                description: Some(text(p, "description")),
            })
            .collect(),
        facts: list("facts")
            .iter()
            .filter_map(|f| f.as_str().map(str::to_string))
            .collect(),
    };
    Some(ledger.normalized())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_tolerates_fences_and_skips_bad_entries() {
        let l = parse_ledger(
            "Here:\n```json\n{\"characters\":[{\"name\":\" Mira \",\"role\":\"pilot\"},{\"role\":\"x\"},7],\
             \"places\":[{\"name\":\"Port Elim\"}],\"facts\":[\"The war ended in 1911\",3]}\n```",
        )
        .expect("ledger");
        assert_eq!(l.characters.len(), 1);
        assert_eq!(l.characters[0].name, "Mira");
        assert_eq!(l.characters[0].description, None);
        assert_eq!(l.places[0].name, "Port Elim");
        assert_eq!(l.facts, vec!["The war ended in 1911".to_string()]);
        assert!(parse_ledger("no json here").is_none());
    }

    #[test]
    fn merge_keeps_known_entries_skips_planned_ones_and_stays_bounded() {
        let mut a = Architecture::default();
        a.bible.characters.push(Character {
            name: "Ana".into(),
            ..Character::default()
        });
        let known = Ledger {
            characters: vec![Character {
                name: "Mira".into(),
                role: "edited by the author".into(),
                description: None,
            }],
            ..Ledger::default()
        };
        let more = Ledger {
            characters: vec![
                Character {
                    name: "MIRA".into(),
                    role: "pilot".into(),
                    description: None,
                },
                Character {
                    name: "ana".into(),
                    ..Character::default()
                },
                Character {
                    name: "Tomás".into(),
                    role: "smith".into(),
                    description: None,
                },
            ],
            facts: (0..200).map(|i| format!("fact {i}")).collect(),
            ..Ledger::default()
        };
        let m = known.merged(more, &a);
        let names: Vec<&str> = m.characters.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["Mira", "Tomás"]);
        assert_eq!(m.characters[0].role, "edited by the author");
        assert_eq!(m.facts.len(), MAX_LEARNED_FACTS);
        assert!(learned_text(&m, 300).chars().count() <= 301);
    }
}
