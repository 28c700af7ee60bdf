//! A chapter's text over time. The current text is the chapter's committed chunks (what the engine,
//! the reader and the exports read); every change — a hand edit, a restore, a regeneration — first
//! copies the text it replaces into `chapter_versions`, labelled with how that text came to be
//! (`chapters.revision_kind`: original / edit / regenerate / restore), by whom and when.
//!
//! A hand edit keeps the chunk rows (the engine's plan and resume rely on their `seq`s): the new text
//! goes into the chapter's last chunk, whose tail the next chapter's prompt quotes, and the earlier
//! chunks are emptied. Each change bumps `books.version`, which keys the export cache, so every
//! download after a change renders the new text.

use buko_actors::model::BookStatus;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::BookChangeError;
use crate::db::repo::chapters::count_words;
use crate::db::schema::{books, chapter_versions, chapters, chunks, users};
use crate::db::{new_id, now, DbConn};

/// How a text came to be.
pub const ORIGINAL: &str = "original";
pub const EDIT: &str = "edit";
pub const REGENERATE: &str = "regenerate";
pub const RESTORE: &str = "restore";

/// Statuses in which the author may change the text (nothing is writing it).
pub const EDITABLE: [BookStatus; 4] = [
    BookStatus::Completed,
    BookStatus::Paused,
    BookStatus::Failed,
    BookStatus::Cancelled,
];

/// A previous text of a chapter.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ChapterVersion {
    /// 1, 2, … per chapter, in the order the texts were replaced.
    pub number: i32,
    /// How this text came to be: `original`, `edit`, `regenerate` or `restore`.
    pub kind: String,
    /// Who made it (none for the original text, written by the engine).
    pub author: Option<String>,
    /// When this text came to be, and when it was replaced.
    pub created_at: NaiveDateTime,
    pub replaced_at: NaiveDateTime,
    pub words: i32,
    pub content: String,
}

/// The current text's history entry (how it came to be, by whom, when).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CurrentRevision {
    pub kind: String,
    pub author: Option<String>,
    pub at: NaiveDateTime,
}

/// The chapter's current text: its non-empty chunks in order, joined by blank lines.
pub fn current_text(conn: &mut DbConn, book_id: &str, chapter: i32) -> QueryResult<String> {
    let parts: Vec<String> = chunks::table
        .filter(chunks::book_id.eq(book_id))
        .filter(chunks::chapter_index.eq(chapter))
        .order(chunks::seq.asc())
        .select(chunks::text)
        .load(conn)?;
    Ok(parts
        .iter()
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n"))
}

/// How the current text of `chapter` came to be; `None` when the book has no such chapter.
pub fn current_revision(
    conn: &mut DbConn,
    book_id: &str,
    chapter: i32,
) -> QueryResult<Option<CurrentRevision>> {
    let row: Option<(String, Option<NaiveDateTime>, NaiveDateTime, Option<String>)> =
        chapters::table
            .left_join(users::table.on(chapters::revised_by.eq(users::id.nullable())))
            .filter(chapters::book_id.eq(book_id))
            .filter(chapters::position.eq(chapter))
            .select((
                chapters::revision_kind,
                chapters::revised_at,
                chapters::updated_at,
                users::display_name.nullable(),
            ))
            .first(conn)
            .optional()?;
    Ok(row.map(|(kind, revised, updated, author)| CurrentRevision {
        kind,
        author: author.filter(|a| !a.trim().is_empty()),
        at: revised.unwrap_or(updated),
    }))
}

/// The chapter's previous texts, newest first.
pub fn list(conn: &mut DbConn, book_id: &str, chapter: i32) -> QueryResult<Vec<ChapterVersion>> {
    versions_query(conn, book_id, chapter, None)
}

/// One previous text.
pub fn get(
    conn: &mut DbConn,
    book_id: &str,
    chapter: i32,
    number: i32,
) -> QueryResult<Option<ChapterVersion>> {
    Ok(versions_query(conn, book_id, chapter, Some(number))?
        .into_iter()
        .next())
}

/// number, kind, author, created_at, replaced_at, words, content
type VersionRow = (
    i32,
    String,
    Option<String>,
    NaiveDateTime,
    NaiveDateTime,
    i32,
    String,
);

fn versions_query(
    conn: &mut DbConn,
    book_id: &str,
    chapter: i32,
    number: Option<i32>,
) -> QueryResult<Vec<ChapterVersion>> {
    let mut q = chapter_versions::table
        .left_join(users::table.on(chapter_versions::author_id.eq(users::id.nullable())))
        .filter(chapter_versions::book_id.eq(book_id))
        .filter(chapter_versions::chapter_index.eq(chapter))
        .into_boxed();
    if let Some(n) = number {
        q = q.filter(chapter_versions::number.eq(n));
    }
    let rows: Vec<VersionRow> = q
        .order(chapter_versions::number.desc())
        .select((
            chapter_versions::number,
            chapter_versions::kind,
            users::display_name.nullable(),
            chapter_versions::created_at,
            chapter_versions::replaced_at,
            chapter_versions::words,
            chapter_versions::content,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(number, kind, author, created_at, replaced_at, words, content)| ChapterVersion {
                number,
                kind,
                // A user without a display name is shown by nothing rather than an empty name.
                author: author.filter(|a| !a.trim().is_empty()),
                created_at,
                replaced_at,
                words,
                content,
            },
        )
        .collect())
}

/// Copies the chapter's current text (if any) into a new version and records `kind`/`by` as how the
/// next text comes to be. Call inside the transaction that changes the text.
pub fn keep_current(
    conn: &mut DbConn,
    book_id: &str,
    chapter: i32,
    kind: &str,
    by: &str,
) -> QueryResult<()> {
    let t = now();
    let content = current_text(conn, book_id, chapter)?;
    if !content.is_empty() {
        let (was, at, updated): (String, Option<NaiveDateTime>, Option<String>) = chapters::table
            .filter(chapters::book_id.eq(book_id))
            .filter(chapters::position.eq(chapter))
            .select((
                chapters::revision_kind,
                chapters::revised_at,
                chapters::revised_by,
            ))
            .first(conn)?;
        let number: Option<i32> = chapter_versions::table
            .filter(chapter_versions::book_id.eq(book_id))
            .filter(chapter_versions::chapter_index.eq(chapter))
            .select(diesel::dsl::max(chapter_versions::number))
            .first(conn)?;
        let created_at = match at {
            Some(at) => at,
            None => first_chunk_time(conn, book_id, chapter)?.unwrap_or(t),
        };
        diesel::insert_into(chapter_versions::table)
            .values((
                chapter_versions::id.eq(new_id()),
                chapter_versions::book_id.eq(book_id),
                chapter_versions::chapter_index.eq(chapter),
                chapter_versions::number.eq(number.unwrap_or(0) + 1),
                chapter_versions::words.eq(count_words(&content) as i32),
                chapter_versions::content.eq(&content),
                chapter_versions::kind.eq(was),
                chapter_versions::author_id.eq(updated),
                chapter_versions::created_at.eq(created_at),
                chapter_versions::replaced_at.eq(t),
            ))
            .execute(conn)?;
    }
    diesel::update(
        chapters::table
            .filter(chapters::book_id.eq(book_id))
            .filter(chapters::position.eq(chapter)),
    )
    .set((
        chapters::revision_kind.eq(kind),
        chapters::revised_by.eq(Some(by)),
        chapters::revised_at.eq(Some(t)),
        chapters::updated_at.eq(t),
    ))
    .execute(conn)?;
    Ok(())
}

fn first_chunk_time(
    conn: &mut DbConn,
    book_id: &str,
    chapter: i32,
) -> QueryResult<Option<NaiveDateTime>> {
    chunks::table
        .filter(chunks::book_id.eq(book_id))
        .filter(chunks::chapter_index.eq(chapter))
        .select(diesel::dsl::min(chunks::created_at))
        .first(conn)
}

/// Replaces the text of a written chapter of a book nobody is writing (see [`EDITABLE`]), keeping
/// the previous text as a version. `kind` is [`EDIT`] or [`RESTORE`]. Returns the new text.
pub fn replace_text(
    conn: &mut DbConn,
    book_id: &str,
    chapter: i32,
    text: &str,
    kind: &str,
    by: &str,
) -> Result<String, BookChangeError> {
    crate::db::write_tx(conn, |conn| {
        // The guard is a write, so the status cannot change under the edit (and SQLite's write lock
        // is taken up front); it also bumps the version that keys the export cache.
        let editable: Vec<&str> = EDITABLE.iter().map(|s| s.as_str()).collect();
        let n = diesel::update(
            books::table
                .filter(books::id.eq(book_id))
                .filter(books::status.eq_any(editable)),
        )
        .set((
            books::version.eq(books::version + 1),
            books::updated_at.eq(now()),
        ))
        .execute(conn)?;
        if n == 0 {
            return Err(super::refused(conn, book_id, "edit the text of"));
        }
        let seqs: Vec<i64> = chunks::table
            .filter(chunks::book_id.eq(book_id))
            .filter(chunks::chapter_index.eq(chapter))
            .order(chunks::seq.asc())
            .select(chunks::seq)
            .load(conn)?;
        let Some(last) = seqs.last().copied() else {
            return Err(BookChangeError::Invalid {
                field: "chapter",
                reason: "this chapter has not been written yet".into(),
            });
        };
        let text = text.trim().to_string();
        if text == current_text(conn, book_id, chapter)? {
            return Ok(text);
        }
        keep_current(conn, book_id, chapter, kind, by)?;
        let words = count_words(&text) as i32;
        let in_chapter = chunks::book_id
            .eq(book_id)
            .and(chunks::chapter_index.eq(chapter));
        diesel::update(
            chunks::table
                .filter(in_chapter)
                .filter(chunks::seq.ne(last)),
        )
        .set((chunks::text.eq(""), chunks::words.eq(0)))
        .execute(conn)?;
        diesel::update(
            chunks::table
                .filter(in_chapter)
                .filter(chunks::seq.eq(last)),
        )
        .set((chunks::text.eq(&text), chunks::words.eq(words)))
        .execute(conn)?;
        diesel::update(
            chapters::table
                .filter(chapters::book_id.eq(book_id))
                .filter(chapters::position.eq(chapter)),
        )
        .set(chapters::words.eq(words))
        .execute(conn)?;
        let total: Option<i64> = chunks::table
            .filter(chunks::book_id.eq(book_id))
            .select(diesel::dsl::sum(chunks::words))
            .first(conn)?;
        diesel::update(books::table.find(book_id))
            .set(books::words.eq(total.unwrap_or(0)))
            .execute(conn)?;
        Ok(text)
    })
}
