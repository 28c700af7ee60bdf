//! The book as every renderer sees it: the plain input the web crate builds
//! (`BookDoc`, owned `String`s, no database types) and the parsed form
//! (`Book`: sanitized metadata, chapters split into blocks and inline runs).
//! Chapter text is parsed exactly once (`parse.rs`), so the four formats can
//! never disagree about where a paragraph, heading or emphasis starts.

use chrono::{Datelike, NaiveDate};

/// The language a book is written in (shared with the pages and the engine); it drives hyphenation,
/// metadata and the fixed labels ("Contents", the demo notice...).
pub use buko_lang::Language;

/// A finished book, as the web crate hands it over. Every field is plain data
/// so the caller can build it straight from its rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookDoc {
    /// Stable id of the book (a UUID string); becomes the EPUB identifier.
    pub id: String,
    pub title: String,
    /// Empty when the book has none.
    pub subtitle: String,
    pub author: String,
    pub language: Language,
    /// Short description; printed on the copyright page and in metadata.
    pub synopsis: String,
    /// "For my mother": printed on the copyright page; empty for none.
    pub dedication: String,
    /// The author's own copyright line; empty prints "© year author. All rights reserved."
    pub copyright: String,
    /// The text was produced by the offline demo generator, not a real model:
    /// the copyright page says so.
    pub is_demo: bool,
    /// Publication date printed on the copyright page.
    pub date: NaiveDate,
    pub chapters: Vec<ChapterDoc>,
}

/// One chapter: its title and the model's prose (paragraphs separated by blank
/// lines, optional `*italic*` / `**bold**`, `#` headings and `***` breaks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChapterDoc {
    pub title: String,
    pub text: String,
}

/// A stretch of text with one style.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub text: String,
    pub italic: bool,
    pub bold: bool,
}

/// A block of a chapter body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    Paragraph(Vec<Run>),
    /// A `#`-style heading inside a chapter; always one level below the
    /// chapter title, whatever the number of `#`.
    Heading(Vec<Run>),
    /// `***`, `* * *`, `---`...: a change of scene.
    SceneBreak,
}

/// A chapter after parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chapter {
    /// 1-based position in the book.
    pub number: usize,
    pub title: String,
    pub blocks: Vec<Block>,
}

/// The parsed book every renderer consumes. Metadata strings are free of
/// control characters (XML 1.0 forbids them even escaped) and trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Book {
    pub id: String,
    pub title: String,
    pub subtitle: Option<String>,
    pub author: String,
    pub language: Language,
    pub synopsis: Option<String>,
    pub dedication: Option<String>,
    pub copyright: Option<String>,
    pub is_demo: bool,
    pub date: NaiveDate,
    pub chapters: Vec<Chapter>,
    /// The rendered cover (JPEG, 1600×2560) when the book has one; the exports then open with it
    /// instead of their typographic cover.
    pub cover_jpeg: Option<Vec<u8>>,
}

impl Book {
    pub fn year(&self) -> i32 {
        self.date.year()
    }
}
