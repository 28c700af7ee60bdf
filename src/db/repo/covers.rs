//! A book's cover and its art candidates (tables `covers`, `cover_art`). Images are BLOBs (BYTEA on
//! PostgreSQL), so every node sharing the database serves the same cover. Only bytes the server encoded
//! itself are ever written here. `covers.version` grows with every saved cover and keys the export
//! cache; the generating status and its last error let the editor show a job's progress and failure
//! while the previous cover stays.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{cover_art, covers};
use crate::db::{new_id, now, DbConn, DbError};

/// Most candidates kept per book; older unchosen ones are dropped as new ones arrive.
pub const MAX_ART_PER_BOOK: i64 = 16;

/// The cover row without its image bytes.
#[derive(Clone, Debug, PartialEq, Queryable)]
pub struct CoverRow {
    pub book_id: String,
    /// JSON of `buko_export::cover::CoverDesign`.
    pub design: String,
    pub prompt: String,
    pub art_id: Option<String>,
    pub version: i32,
    /// `idle`, `generating` or `failed`.
    pub status: String,
    pub last_error: Option<String>,
    pub updated_at: NaiveDateTime,
}

/// A candidate, without its bytes.
#[derive(Clone, Debug, PartialEq, Queryable)]
pub struct ArtRow {
    pub id: String,
    pub source: String,
    pub created_at: NaiveDateTime,
}

type CoverColumns = (
    covers::book_id,
    covers::design,
    covers::prompt,
    covers::art_id,
    covers::version,
    covers::status,
    covers::last_error,
    covers::updated_at,
);
const COVER_COLUMNS: CoverColumns = (
    covers::book_id,
    covers::design,
    covers::prompt,
    covers::art_id,
    covers::version,
    covers::status,
    covers::last_error,
    covers::updated_at,
);

pub fn find(conn: &mut DbConn, book_id: &str) -> Result<Option<CoverRow>, DbError> {
    Ok(covers::table
        .find(book_id)
        .select(COVER_COLUMNS)
        .first(conn)
        .optional()?)
}

/// The rendered cover (`thumb`: its thumbnail) and the version it belongs to.
pub fn image(
    conn: &mut DbConn,
    book_id: &str,
    thumb: bool,
) -> Result<Option<(Vec<u8>, i32)>, DbError> {
    let row: Option<(Option<Vec<u8>>, i32)> = if thumb {
        covers::table
            .find(book_id)
            .select((covers::thumb, covers::version))
            .first(conn)
            .optional()?
    } else {
        covers::table
            .find(book_id)
            .select((covers::image, covers::version))
            .first(conn)
            .optional()?
    };
    Ok(row.and_then(|(b, v)| b.map(|b| (b, v))))
}

/// Creates the row if the book has none yet (a concurrent creator on another node wins quietly).
pub fn ensure(conn: &mut DbConn, book_id: &str, design: &str, prompt: &str) -> Result<(), DbError> {
    let inserted = conn.transaction(|c| {
        diesel::insert_into(covers::table)
            .values((
                covers::book_id.eq(book_id),
                covers::design.eq(design),
                covers::prompt.eq(prompt),
                covers::version.eq(0),
                covers::status.eq("idle"),
                covers::updated_at.eq(now()),
            ))
            .execute(c)
    });
    match inserted {
        Ok(_)
        | Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Stores a newly rendered cover with its design and chosen art; returns the new version. With
/// `first`, only a book with no rendered cover yet is written (concurrent first views render it
/// once: the loser's art is removed and the winner's version returned), so every export of that
/// moment carries the same cover version.
pub fn save_rendered(
    conn: &mut DbConn,
    book_id: &str,
    design: &str,
    art_id: Option<&str>,
    (image, thumb): (&[u8], &[u8]),
    first: bool,
) -> Result<i32, DbError> {
    crate::db::write_tx(conn, |c| {
        let version: i32 = covers::table
            .find(book_id)
            .select(covers::version)
            .first(c)?;
        if first && version > 0 {
            if let Some(art) = art_id {
                diesel::delete(cover_art::table.find(art)).execute(c)?;
            }
            return Ok(version);
        }
        diesel::update(covers::table.find(book_id))
            .set((
                covers::design.eq(design),
                covers::art_id.eq(art_id),
                covers::image.eq(Some(image)),
                covers::thumb.eq(Some(thumb)),
                covers::version.eq(version + 1),
                covers::updated_at.eq(now()),
            ))
            .execute(c)?;
        Ok(version + 1)
    })
}

/// Marks a generation as started with its prompt, unless one is running: `false` then.
pub fn start_generating(conn: &mut DbConn, book_id: &str, prompt: &str) -> Result<bool, DbError> {
    let n = diesel::update(
        covers::table
            .find(book_id)
            .filter(covers::status.ne("generating")),
    )
    .set((
        covers::prompt.eq(prompt),
        covers::status.eq("generating"),
        covers::last_error.eq(None::<String>),
        covers::updated_at.eq(now()),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Ends a generation: `error` is the readable reason it failed, `None` when it succeeded.
pub fn finish_generating(
    conn: &mut DbConn,
    book_id: &str,
    error: Option<&str>,
) -> Result<(), DbError> {
    diesel::update(covers::table.find(book_id))
        .set((
            covers::status.eq(if error.is_some() { "failed" } else { "idle" }),
            covers::last_error.eq(error),
            covers::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Adds a candidate (already re-encoded) and drops the oldest unchosen ones past the limit.
pub fn add_art(
    conn: &mut DbConn,
    book_id: &str,
    source: &str,
    image: &[u8],
    thumb: &[u8],
) -> Result<String, DbError> {
    let id = new_id();
    crate::db::write_tx(conn, |c| {
        diesel::insert_into(cover_art::table)
            .values((
                cover_art::id.eq(&id),
                cover_art::book_id.eq(book_id),
                cover_art::source.eq(source),
                cover_art::image.eq(image),
                cover_art::thumb.eq(thumb),
                cover_art::created_at.eq(now()),
            ))
            .execute(c)?;
        let chosen: Option<String> = covers::table
            .find(book_id)
            .select(covers::art_id)
            .first(c)
            .optional()?
            .flatten();
        let old: Vec<String> = cover_art::table
            .filter(cover_art::book_id.eq(book_id))
            .order((cover_art::created_at.desc(), cover_art::id.desc()))
            .offset(MAX_ART_PER_BOOK)
            .select(cover_art::id)
            .load(c)?;
        let drop: Vec<String> = old
            .into_iter()
            .filter(|o| Some(o) != chosen.as_ref())
            .collect();
        if !drop.is_empty() {
            diesel::delete(cover_art::table.filter(cover_art::id.eq_any(&drop))).execute(c)?;
        }
        Ok::<_, DbError>(())
    })?;
    Ok(id)
}

/// The book's candidates, newest first.
pub fn list_art(conn: &mut DbConn, book_id: &str) -> Result<Vec<ArtRow>, DbError> {
    Ok(cover_art::table
        .filter(cover_art::book_id.eq(book_id))
        .order((cover_art::created_at.desc(), cover_art::id.desc()))
        .select((cover_art::id, cover_art::source, cover_art::created_at))
        .load(conn)?)
}

/// A candidate's bytes (`thumb`: its small version), if it belongs to the book.
pub fn art_image(
    conn: &mut DbConn,
    book_id: &str,
    art_id: &str,
    thumb: bool,
) -> Result<Option<Vec<u8>>, DbError> {
    let q = cover_art::table
        .filter(cover_art::book_id.eq(book_id))
        .filter(cover_art::id.eq(art_id));
    Ok(if thumb {
        q.select(cover_art::thumb).first(conn).optional()?
    } else {
        q.select(cover_art::image).first(conn).optional()?
    })
}

/// The display name of a book's owner (the default author line when the book has no pen name).
pub fn owner_name(conn: &mut DbConn, user_id: &str) -> Result<String, DbError> {
    use crate::db::schema::users;
    Ok(users::table
        .find(user_id)
        .select(users::display_name)
        .first::<String>(conn)
        .optional()?
        .unwrap_or_default())
}
