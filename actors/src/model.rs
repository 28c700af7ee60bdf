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

/// Book language: the one type the pages, the engine and the exports share.
pub use buko_lang::Language;

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
    /// What the text itself introduced, learned after each chapter (the story ledger); the author
    /// may edit it. Absent from the JSON while empty.
    #[serde(default, skip_serializing_if = "Ledger::is_empty")]
    pub learned: Ledger,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Place {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The story ledger: what the text taught about its world, beyond the planned bible.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct Ledger {
    #[serde(default)]
    pub characters: Vec<Character>,
    #[serde(default)]
    pub places: Vec<Place>,
    #[serde(default)]
    pub facts: Vec<String>,
}

/// A continuity-audit finding (see `audit`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    Character,
    Timeline,
    Fact,
    Outline,
    Style,
}

impl FindingKind {
    pub const ALL: [FindingKind; 5] = [
        FindingKind::Character,
        FindingKind::Timeline,
        FindingKind::Fact,
        FindingKind::Outline,
        FindingKind::Style,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::Character => "character",
            FindingKind::Timeline => "timeline",
            FindingKind::Fact => "fact",
            FindingKind::Outline => "outline",
            FindingKind::Style => "style",
        }
    }
    pub fn parse(s: &str) -> Option<FindingKind> {
        let s = s.trim().to_ascii_lowercase();
        FindingKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One continuity problem, with the chapter's own words as evidence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub kind: FindingKind,
    /// 1 (minor) to 3 (breaks the story).
    pub severity: u8,
    /// Verbatim from the chapter.
    pub quote: String,
    pub explanation: String,
    /// What to change; given as the instruction when the author applies the finding.
    pub suggestion: String,
}

impl Ledger {
    pub fn is_empty(&self) -> bool {
        self.characters.is_empty() && self.places.is_empty() && self.facts.is_empty()
    }
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

/// Why an architecture was refused, in plain words (`Display`, English); pages say it in the
/// author's language from the variant.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ArchitectureError {
    #[error("the book has no title")]
    NoTitle,
    #[error("the title is longer than {MAX_TITLE_CHARS} characters")]
    TitleTooLong,
    /// `subtitle`, `synopsis`, `audience` or `tone`.
    #[error("the {0} is longer than {MAX_TEXT_CHARS} characters")]
    FieldTooLong(&'static str),
    #[error("the book has no chapters")]
    NoChapters,
    #[error("a book has at most {MAX_CHAPTERS} chapters")]
    TooManyChapters,
    /// 1-based chapter numbers from here on.
    #[error("chapter {0} has no title")]
    ChapterWithoutTitle(usize),
    #[error("the title of chapter {0} is longer than {MAX_TITLE_CHARS} characters")]
    ChapterTitleTooLong(usize),
    #[error("the summary of chapter {0} is longer than {MAX_TEXT_CHARS} characters")]
    ChapterSummaryTooLong(usize),
    #[error("chapter {chapter} asks for {words} words; a chapter can ask for {MIN_TARGET_WORDS} to {MAX_TARGET_WORDS} words")]
    WordTarget { chapter: usize, words: u32 },
}

impl Architecture {
    /// Checks the rules of SPEC.md (a title, at least one chapter, sane sizes). Trims strings in place so
    /// what is stored is what was validated.
    pub fn validate(&mut self) -> Result<(), ArchitectureError> {
        use ArchitectureError as E;
        self.title = self.title.trim().to_string();
        if self.title.is_empty() {
            return Err(E::NoTitle);
        }
        if self.title.chars().count() > MAX_TITLE_CHARS {
            return Err(E::TitleTooLong);
        }
        for (field, value) in [
            ("subtitle", &self.subtitle),
            ("synopsis", &self.synopsis),
            ("audience", &self.audience),
            ("tone", &self.tone),
        ] {
            if value.chars().count() > MAX_TEXT_CHARS {
                return Err(E::FieldTooLong(field));
            }
        }
        if self.chapters.is_empty() {
            return Err(E::NoChapters);
        }
        if self.chapters.len() > MAX_CHAPTERS {
            return Err(E::TooManyChapters);
        }
        for (i, ch) in self.chapters.iter_mut().enumerate() {
            ch.title = ch.title.trim().to_string();
            if ch.title.is_empty() {
                return Err(E::ChapterWithoutTitle(i + 1));
            }
            if ch.title.chars().count() > MAX_TITLE_CHARS {
                return Err(E::ChapterTitleTooLong(i + 1));
            }
            if ch.summary.chars().count() > MAX_TEXT_CHARS {
                return Err(E::ChapterSummaryTooLong(i + 1));
            }
            if !(MIN_TARGET_WORDS..=MAX_TARGET_WORDS).contains(&ch.target_words) {
                return Err(E::WordTarget {
                    chapter: i + 1,
                    words: ch.target_words,
                });
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
        assert_eq!(
            a.validate().expect_err("no chapters"),
            ArchitectureError::NoChapters
        );
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
