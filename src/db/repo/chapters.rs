//! A book's chapters as a reader sees them: the `chapters` rows (from the approved architecture) with
//! their text, which is the committed `chunks` of that chapter in seq order joined by blank lines.
//! Read-only here; the engine's store adapter writes chunks.

use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::{chapters, chunks};
use crate::db::types::ChapterStatus;
use crate::db::{DbConn, DbError};

#[derive(Clone, Debug, Serialize)]
pub struct ChapterText {
    pub position: i32,
    pub title: String,
    pub status: ChapterStatus,
    pub target_words: i32,
    pub content: String,
    pub words: usize,
}

/// Counts words as the UI does: whitespace-separated runs.
pub fn count_words(text: &str) -> usize {
    text.split_whitespace().count()
}

/// Every chapter of the book with its committed text, in order.
pub fn list_with_text(conn: &mut DbConn, book_id: &str) -> Result<Vec<ChapterText>, DbError> {
    let rows: Vec<(i32, String, ChapterStatus, i32)> = chapters::table
        .filter(chapters::book_id.eq(book_id))
        .order(chapters::position.asc())
        .select((
            chapters::position,
            chapters::title,
            chapters::status,
            chapters::target_words,
        ))
        .load(conn)?;
    let parts: Vec<(i32, String)> = chunks::table
        .filter(chunks::book_id.eq(book_id))
        .order(chunks::seq.asc())
        .select((chunks::chapter_index, chunks::text))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(position, title, status, target_words)| {
            let content = parts
                .iter()
                .filter(|(ci, _)| *ci == position)
                .map(|(_, t)| t.trim())
                .collect::<Vec<_>>()
                .join("\n\n");
            ChapterText {
                position,
                title,
                status,
                target_words,
                words: count_words(&content),
                content,
            }
        })
        .collect())
}

/// Test and tooling helper: commits a chunk row directly (the engine's store adapter does this in
/// production, idempotently by `(book_id, seq)`).
pub fn insert_chunk(
    conn: &mut DbConn,
    book_id: &str,
    seq: i64,
    chapter_index: i32,
    text: &str,
) -> Result<(), DbError> {
    diesel::insert_into(chunks::table)
        .values((
            chunks::id.eq(crate::db::new_id()),
            chunks::book_id.eq(book_id),
            chunks::seq.eq(seq),
            chunks::chapter_index.eq(chapter_index),
            chunks::part_index.eq(0),
            chunks::text.eq(text),
            chunks::words.eq(count_words(text) as i32),
            chunks::created_at.eq(crate::db::now()),
        ))
        .execute(conn)?;
    Ok(())
}

#[derive(Clone, Debug, Queryable, Serialize)]
pub struct CommittedChunk {
    pub seq: i64,
    pub chapter_index: i32,
    pub text: String,
}

/// Committed chunks with seq > `after`, in order (the live view fills gaps after a reconnect with it).
pub fn chunks_after(
    conn: &mut DbConn,
    book_id: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<CommittedChunk>, DbError> {
    Ok(chunks::table
        .filter(chunks::book_id.eq(book_id))
        .filter(chunks::seq.gt(after))
        .order(chunks::seq.asc())
        .limit(limit)
        .select((chunks::seq, chunks::chapter_index, chunks::text))
        .load(conn)?)
}

/// A chapter's title (empty when the book has no such chapter).
pub fn title(conn: &mut DbConn, book_id: &str, position: i32) -> Result<String, DbError> {
    Ok(chapters::table
        .filter(chapters::book_id.eq(book_id))
        .filter(chapters::position.eq(position))
        .select(chapters::title)
        .first(conn)
        .optional()?
        .unwrap_or_default())
}
