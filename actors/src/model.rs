//! The book's shared vocabulary: statuses and the architecture document that the author edits, the LLM
//! produces and the engine writes from. Pure data with validation; no I/O.

use serde::{Deserialize, Serialize};

/// Lifecycle of a book (see SPEC "Statuses").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookStatus {
    Draft,
    ArchitecturePending,
    ArchitectureReady,
    Queued,
    Generating,
    Paused,
    Completed,
    Failed,
    Cancelled,
}

impl BookStatus {
    pub const ALL: [BookStatus; 9] = [
        BookStatus::Draft,
        BookStatus::ArchitecturePending,
        BookStatus::ArchitectureReady,
        BookStatus::Queued,
        BookStatus::Generating,
        BookStatus::Paused,
        BookStatus::Completed,
        BookStatus::Failed,
        BookStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BookStatus::Draft => "draft",
            BookStatus::ArchitecturePending => "architecture_pending",
            BookStatus::ArchitectureReady => "architecture_ready",
            BookStatus::Queued => "queued",
            BookStatus::Generating => "generating",
            BookStatus::Paused => "paused",
            BookStatus::Completed => "completed",
            BookStatus::Failed => "failed",
            BookStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<BookStatus> {
        BookStatus::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// No further writing happens in these states without an explicit user action.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            BookStatus::Completed | BookStatus::Failed | BookStatus::Cancelled
        )
    }
}

/// Compares with the stored / wire text (`"completed"`), for tests and callers that hold text.
impl PartialEq<str> for BookStatus {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for BookStatus {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl std::fmt::Display for BookStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Book language. Only the two the UI and exports are typeset for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    En,
    Es,
}

impl Language {
    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Es => "es",
        }
    }
    pub fn parse(s: &str) -> Option<Language> {
        match s.trim().to_ascii_lowercase().as_str() {
            "en" => Some(Language::En),
            "es" => Some(Language::Es),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct Character {
    pub name: String,
    #[serde(default)]
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Characters / key terms / facts / style rules every chunk prompt carries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct Bible {
    #[serde(default)]
    pub characters: Vec<Character>,
    #[serde(default)]
    pub facts: Vec<String>,
    #[serde(default)]
    pub style: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct ChapterPlan {
    pub title: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub key_points: Vec<String>,
    #[serde(default = "default_target_words")]
    pub target_words: u32,
}

fn default_target_words() -> u32 {
    2000
}

/// The architecture JSON of SPEC.md. Unknown fields are ignored, optional ones defaulted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct Architecture {
    pub title: String,
    #[serde(default)]
    pub subtitle: String,
    #[serde(default)]
    pub synopsis: String,
    #[serde(default)]
    pub audience: String,
    #[serde(default)]
    pub tone: String,
    #[serde(default)]
    pub language: Language,
    #[serde(default)]
    pub bible: Bible,
    #[serde(default)]
    pub chapters: Vec<ChapterPlan>,
}

/// Limits an architecture must respect, whoever wrote it (LLM, author, API client).
pub const MAX_CHAPTERS: usize = 200;
pub const MIN_TARGET_WORDS: u32 = 100;
pub const MAX_TARGET_WORDS: u32 = 20_000;
pub const MAX_TITLE_CHARS: usize = 300;
pub const MAX_TEXT_CHARS: usize = 20_000;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid architecture: {0}")]
pub struct ArchitectureError(pub String);

impl Architecture {
    /// Checks the rules of SPEC.md (a title, at least one chapter, sane sizes). Trims strings in place so
    /// what is stored is what was validated.
    pub fn validate(&mut self) -> Result<(), ArchitectureError> {
        let err = |m: String| Err(ArchitectureError(m));
        self.title = self.title.trim().to_string();
        if self.title.is_empty() {
            return err("the book has no title".into());
        }
        if self.title.chars().count() > MAX_TITLE_CHARS {
            return err(format!(
                "the title is longer than {MAX_TITLE_CHARS} characters"
            ));
        }
        for (field, value) in [
            ("subtitle", &self.subtitle),
            ("synopsis", &self.synopsis),
            ("audience", &self.audience),
            ("tone", &self.tone),
        ] {
            if value.chars().count() > MAX_TEXT_CHARS {
                return err(format!(
                    "the {field} is longer than {MAX_TEXT_CHARS} characters"
                ));
            }
        }
        if self.chapters.is_empty() {
            return err("the book has no chapters".into());
        }
        if self.chapters.len() > MAX_CHAPTERS {
            return err(format!("a book has at most {MAX_CHAPTERS} chapters"));
        }
        for (i, ch) in self.chapters.iter_mut().enumerate() {
            ch.title = ch.title.trim().to_string();
            if ch.title.is_empty() {
                return err(format!("chapter {} has no title", i + 1));
            }
            if ch.title.chars().count() > MAX_TITLE_CHARS {
                return err(format!("the title of chapter {} is too long", i + 1));
            }
            if ch.summary.chars().count() > MAX_TEXT_CHARS {
                return err(format!("the summary of chapter {} is too long", i + 1));
            }
            if !(MIN_TARGET_WORDS..=MAX_TARGET_WORDS).contains(&ch.target_words) {
                return err(format!(
                    "chapter {} asks for {} words; allowed {MIN_TARGET_WORDS}..={MAX_TARGET_WORDS}",
                    i + 1,
                    ch.target_words
                ));
            }
            ch.key_points.retain(|k| !k.trim().is_empty());
        }
        self.bible.characters.retain(|c| !c.name.trim().is_empty());
        Ok(())
    }

    pub fn total_target_words(&self) -> u64 {
        self.chapters
            .iter()
            .map(|c| u64::from(c.target_words))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_missing_title_and_chapters() {
        let mut a = Architecture::default();
        assert!(a.validate().is_err());
        a.title = "T".into();
        assert!(a
            .validate()
            .expect_err("no chapters")
            .0
            .contains("no chapters"));
    }

    #[test]
    fn parses_spec_shape_ignoring_unknown_fields() {
        let json = r#"{"title":" A ","language":"es","extra":1,
            "chapters":[{"title":"One","summary":"s","key_points":["k"],"target_words":1500}]}"#;
        let mut a: Architecture = serde_json::from_str(json).expect("parse");
        a.validate().expect("valid");
        assert_eq!(a.title, "A");
        assert_eq!(a.language, Language::Es);
        assert_eq!(a.total_target_words(), 1500);
    }
}

/// A chapter to rewrite when a run starts: optionally steered by the author's instruction, and
/// optionally with every following chapter rewritten too so they follow the change.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Regenerate {
    /// 0-based.
    pub chapter: usize,
    /// "More dialogue", "end on a cliffhanger": added to the prompt of every part of `chapter`.
    pub instruction: Option<String>,
    pub refresh_following: bool,
}

impl Regenerate {
    pub fn chapter(chapter: usize) -> Regenerate {
        Regenerate {
            chapter,
            ..Regenerate::default()
        }
    }
}
