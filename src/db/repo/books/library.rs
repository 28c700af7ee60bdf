//! The library's operations on whole books: search by title, delete (with its chapters, chunks,
//! events and jobs), duplicate the architecture into a new draft.

use buko_actors::model::BookStatus;
use diesel::prelude::*;

use super::{get, Book};
use crate::db::schema::{books, jobs};
use crate::db::{new_id, now, DbConn, DbError};

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

/// The user's books whose title (or, before it has one, idea) contains `q`, case-insensitively,
/// newest first. `%`, `_` and `\` in `q` match themselves.
pub fn search_for_user(conn: &mut DbConn, user_id: &str, q: &str) -> Result<Vec<Book>, DbError> {
    let escaped: String = q
        .to_lowercase()
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    let pattern = format!("%{escaped}%");
    Ok(books::table
        .filter(books::user_id.eq(user_id))
        .filter(
            lower(books::title)
                .like(&pattern)
                .escape('\\')
                .or(books::title
                    .eq("")
                    .and(lower(books::idea).like(&pattern).escape('\\'))),
        )
        .order(books::created_at.desc())
        .select(Book::as_select())
        .load(conn)?)
}

/// Deletes the book and everything of it: chapters, chunks and events go with the row (`ON DELETE
/// CASCADE`), usage records keep their cost without the book (`SET NULL`), and its jobs are removed
/// here (they name the book only in their payload). Returns whether it existed.
pub fn delete(conn: &mut DbConn, id: &str) -> Result<bool, DbError> {
    crate::db::write_tx(conn, |conn| {
        let keys = [format!("architecture:{id}"), format!("book:{id}")];
        diesel::delete(jobs::table.filter(jobs::unique_key.eq_any(&keys))).execute(conn)?;
        // The completion e-mail has no unique key; its payload is `{"BookCompletedEmail":{"book_id":…}}`
        // or similar JSON naming the id, which is a UUID and so cannot appear by accident.
        diesel::delete(
            jobs::table
                .filter(jobs::unique_key.is_null())
                .filter(jobs::payload.like(format!("%\"{id}\"%"))),
        )
        .execute(conn)?;
        let n = diesel::delete(books::table.find(id)).execute(conn)?;
        Ok(n == 1)
    })
}

/// A new book with the source's idea, settings and architecture, ready for review (no LLM call, so
/// no quota): status `architecture_ready`, titled `title`.
pub fn duplicate(conn: &mut DbConn, source: &Book, title: &str) -> Result<Book, DbError> {
    let mut arch = source.architecture();
    if let Some(a) = arch.as_mut() {
        a.title = title.to_string();
    }
    let json = arch
        .as_ref()
        .and_then(|a| serde_json::to_string(a).ok())
        .ok_or_else(|| DbError::Query(diesel::result::Error::NotFound))?;
    crate::db::write_tx(conn, |conn| {
        let id = new_id();
        let t = now();
        diesel::insert_into(books::table)
            .values((
                books::id.eq(&id),
                books::user_id.eq(&source.user_id),
                books::title.eq(title),
                books::idea.eq(&source.idea),
                books::genre.eq(&source.genre),
                books::audience.eq(&source.audience),
                books::tone.eq(&source.tone),
                books::language.eq(source.language.code()),
                books::target_pages.eq(source.target_pages),
                books::status.eq(BookStatus::ArchitectureReady.as_str()),
                books::architecture.eq(Some(&json)),
                books::is_demo.eq(source.is_demo),
                books::created_at.eq(t),
                books::updated_at.eq(t),
            ))
            .execute(conn)?;
        get(conn, &id)
    })
}

/// The version exports are cached under (bumped by every change of the text).
pub fn version(conn: &mut DbConn, id: &str) -> Result<i32, DbError> {
    Ok(books::table.find(id).select(books::version).first(conn)?)
}
