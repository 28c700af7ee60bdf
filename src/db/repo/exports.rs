//! A stored book read whole for the exporters: the book row, its author's name, chapter titles and
//! committed chunks in order (one read, so the export matches one version).

use buko_lang::Language;
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{books, chapters, chunks, users};
use crate::db::{DbConn, DbError};

/// What an export is made of, as stored.
pub struct StoredBook {
    pub id: String,
    pub title: String,
    pub language: Language,
    pub is_demo: bool,
    pub architecture: Option<String>,
    /// Bumped by every committed chunk: the export cache's key.
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub completed_at: Option<NaiveDateTime>,
    /// The book's pen name, else the author's display name; empty when neither is set (the exporter
    /// then prints its "Anonymous" label, never the app's name).
    pub author: String,
    pub dedication: String,
    pub copyright: String,
    /// (position, title) in order.
    pub chapters: Vec<(i32, String)>,
    /// (chapter position, text) in commit order.
    pub chunks: Vec<(i32, String)>,
}

pub fn load(conn: &mut DbConn, book_id: &str) -> Result<StoredBook, DbError> {
    let (title, language, is_demo, architecture, version, created_at, completed_at, user_id): (
        String,
        Language,
        bool,
        Option<String>,
        i32,
        NaiveDateTime,
        Option<NaiveDateTime>,
        String,
    ) = books::table
        .find(book_id)
        .select((
            books::title,
            books::language,
            books::is_demo,
            books::architecture,
            books::version,
            books::created_at,
            books::completed_at,
            books::user_id,
        ))
        .first(conn)?;
    let display_name: String = users::table
        .find(&user_id)
        .select(users::display_name)
        .first(conn)?;
    let (pen_name, dedication, copyright): (String, String, String) = books::table
        .find(book_id)
        .select((books::pen_name, books::dedication, books::copyright_line))
        .first(conn)?;
    let author = if pen_name.trim().is_empty() {
        display_name
    } else {
        pen_name
    };
    let chapters: Vec<(i32, String)> = chapters::table
        .filter(chapters::book_id.eq(book_id))
        .order(chapters::position.asc())
        .select((chapters::position, chapters::title))
        .load(conn)?;
    let chunks: Vec<(i32, String)> = chunks::table
        .filter(chunks::book_id.eq(book_id))
        .order(chunks::seq.asc())
        .select((chunks::chapter_index, chunks::text))
        .load(conn)?;
    Ok(StoredBook {
        id: book_id.to_string(),
        title,
        language,
        is_demo,
        architecture,
        version,
        created_at,
        completed_at,
        author,
        dedication,
        copyright,
        chapters,
        chunks,
    })
}
