//! Changing a written chapter: the author's hand edit, restoring a previous version, and the
//! history of versions (every change keeps the text it replaces — `db::repo::books::versions`).
//! Regenerating lives beside the other controls in [`super::lifecycle`] and keeps versions the same way.

use serde::Serialize;

use super::{BookError, BookService, Problem};
use crate::db::ids::BookId;
use crate::db::models::User;
use crate::db::repo::books::versions::{self as chapter_versions, ChapterVersion, CurrentRevision};
use crate::db::repo::chapters::count_words;
use crate::db::{self};

/// Longest chapter text the author may save (a generous novel chapter).
pub const MAX_CHAPTER_CHARS: usize = 200_000;

/// A chapter's current text and how it came to be.
#[derive(Clone, Debug, Serialize)]
pub struct ChapterRevision {
    /// 0-based.
    pub chapter: i32,
    pub title: String,
    pub content: String,
    pub words: usize,
    pub revision: CurrentRevision,
}

/// The current text with every previous one, newest first.
#[derive(Clone, Debug, Serialize)]
pub struct ChapterHistory {
    pub current: ChapterRevision,
    pub versions: Vec<ChapterVersion>,
}

/// Checks a hand-edited text: not empty, not over [`MAX_CHAPTER_CHARS`].
pub fn validate_chapter_text(content: &str) -> Result<&str, BookError> {
    let text = content.trim();
    if text.is_empty() {
        return Err(BookError::problem(
            "content",
            Problem::Empty,
            "the chapter cannot be empty; restore a version instead if you want to start over",
        ));
    }
    let n = text.chars().count();
    if n > MAX_CHAPTER_CHARS {
        return Err(BookError::problem(
            "content",
            Problem::TooLong {
                max: MAX_CHAPTER_CHARS,
            },
            format!("the chapter is too long ({n} characters; at most {MAX_CHAPTER_CHARS})"),
        ));
    }
    Ok(text)
}

fn chapter_index(n: usize) -> Result<i32, BookError> {
    i32::try_from(n).map_err(|_| BookError::NotFound)
}

impl BookService {
    /// The chapter's current text and its history; an unknown chapter is `NotFound`.
    pub async fn chapter_history(
        &self,
        user: &User,
        id: &BookId,
        n: usize,
    ) -> Result<ChapterHistory, BookError> {
        let book = self.get(user, id).await?;
        let chapter = chapter_index(n)?;
        let found = db::run(&self.db, move |c| {
            let Some(revision) = chapter_versions::current_revision(c, &book.id, chapter)? else {
                return Ok(None);
            };
            let title = crate::db::repo::chapters::title(c, &book.id, chapter)?;
            let content = chapter_versions::current_text(c, &book.id, chapter)?;
            let versions = chapter_versions::list(c, &book.id, chapter)?;
            Ok(Some(ChapterHistory {
                current: ChapterRevision {
                    chapter,
                    title,
                    words: count_words(&content),
                    content,
                    revision,
                },
                versions,
            }))
        })
        .await?;
        found.ok_or(BookError::NotFound)
    }

    /// Replaces the chapter's text with the author's (the previous text becomes a version). Only
    /// while nothing writes the book (completed, paused, failed or cancelled) and once the chapter
    /// has text. Saving the same text again changes nothing.
    pub async fn edit_chapter(
        &self,
        user: &User,
        id: &BookId,
        n: usize,
        content: &str,
    ) -> Result<ChapterRevision, BookError> {
        let text = validate_chapter_text(content)?.to_string();
        self.replace(user, id, n, text, chapter_versions::EDIT)
            .await
    }

    /// Makes version `v` the current text again (the text it replaces becomes a version too).
    pub async fn restore_version(
        &self,
        user: &User,
        id: &BookId,
        n: usize,
        v: i32,
    ) -> Result<ChapterRevision, BookError> {
        let book = self.get(user, id).await?;
        let chapter = chapter_index(n)?;
        let version = db::run(&self.db, move |c| {
            Ok(chapter_versions::get(c, &book.id, chapter, v)?)
        })
        .await?
        .ok_or(BookError::NotFound)?;
        self.replace(user, id, n, version.content, chapter_versions::RESTORE)
            .await
    }

    async fn replace(
        &self,
        user: &User,
        id: &BookId,
        n: usize,
        text: String,
        kind: &'static str,
    ) -> Result<ChapterRevision, BookError> {
        let book = self.get(user, id).await?;
        let chapter = chapter_index(n)?;
        let by = user.id.clone();
        let exists = db::run(&self.db, {
            let id = book.id.clone();
            move |c| Ok(chapter_versions::current_revision(c, &id, chapter)?.is_some())
        })
        .await?;
        if !exists {
            return Err(BookError::NotFound);
        }
        db::run(&self.db, move |c| {
            Ok(chapter_versions::replace_text(
                c, &book.id, chapter, &text, kind, &by,
            ))
        })
        .await??;
        Ok(self.chapter_history(user, id, n).await?.current)
    }
}
