//! The book's memory in storage: the story ledger (kept in the architecture JSON as `bible.learned`)
//! and the continuity audit (its switch on `books`, its findings in `continuity_findings`). The
//! engine's writes go through `repo::engine::fenced`; the author's edits are plain transactions.

use buko_actors::{Architecture, Finding, FindingKind, Ledger};
use diesel::prelude::*;
use serde::Serialize;

use crate::db::repo::engine::{fenced, QueryError};
use crate::db::schema::{books, continuity_findings as findings};
use crate::db::{new_id, now, DbConn, DbError};

pub const OPEN: &str = "open";
pub const DISMISSED: &str = "dismissed";
pub const APPLIED: &str = "applied";

fn architecture(conn: &mut DbConn, book_id: &str) -> Result<Architecture, QueryError> {
    let json: Option<String> = books::table
        .find(book_id)
        .select(books::architecture)
        .first(conn)
        .optional()?
        .ok_or_else(|| QueryError::NotFound(book_id.into()))?;
    serde_json::from_str(json.as_deref().unwrap_or(""))
        .map_err(|e| QueryError::BadArchitecture(e.to_string()))
}

fn save_architecture(conn: &mut DbConn, book_id: &str, a: &Architecture) -> Result<(), QueryError> {
    let json = serde_json::to_string(a).map_err(|e| QueryError::BadArchitecture(e.to_string()))?;
    diesel::update(books::table.find(book_id))
        .set((
            books::architecture.eq(Some(json)),
            books::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// The engine adds what a chapter taught; entries already stored (maybe edited) stay as they are.
pub fn merge_ledger(
    conn: &mut DbConn,
    book_id: &str,
    learned: Ledger,
    fence: buko_actors::Fence,
) -> Result<Ledger, QueryError> {
    fenced(conn, book_id, fence, |conn| {
        let mut a = architecture(conn, book_id)?;
        a.bible.learned = a.bible.learned.merged(learned, &a);
        save_architecture(conn, book_id, &a)?;
        Ok(a.bible.learned)
    })
}

/// The author's version of the ledger replaces the stored one (normalized and bounded).
pub fn replace_ledger(
    conn: &mut DbConn,
    book_id: &str,
    learned: Ledger,
) -> Result<Ledger, QueryError> {
    crate::db::write_tx(conn, |conn| {
        let mut a = architecture(conn, book_id)?;
        a.bible.learned = learned.normalized();
        save_architecture(conn, book_id, &a)?;
        Ok(a.bible.learned)
    })
}

pub fn audit_enabled(conn: &mut DbConn, book_id: &str) -> Result<bool, DbError> {
    Ok(books::table
        .find(book_id)
        .select(books::continuity_audit)
        .first::<bool>(conn)
        .optional()?
        .unwrap_or(true))
}

pub fn set_audit_enabled(conn: &mut DbConn, book_id: &str, on: bool) -> Result<(), DbError> {
    diesel::update(books::table.find(book_id))
        .set(books::continuity_audit.eq(on))
        .execute(conn)?;
    Ok(())
}

/// Replaces the chapter's open findings (the engine; idempotent across a restarted run).
pub fn save_findings(
    conn: &mut DbConn,
    book_id: &str,
    chapter: usize,
    list: &[Finding],
    fence: buko_actors::Fence,
) -> Result<(), QueryError> {
    let chapter = i32::try_from(chapter).unwrap_or(i32::MAX);
    fenced(conn, book_id, fence, |conn| {
        discard_open(conn, book_id, chapter)?;
        let at = now();
        for f in list {
            diesel::insert_into(findings::table)
                .values((
                    findings::id.eq(new_id()),
                    findings::book_id.eq(book_id),
                    findings::chapter_index.eq(chapter),
                    findings::kind.eq(f.kind.as_str()),
                    findings::severity.eq(i32::from(f.severity)),
                    findings::quote.eq(&f.quote),
                    findings::explanation.eq(&f.explanation),
                    findings::suggestion.eq(&f.suggestion),
                    findings::status.eq(OPEN),
                    findings::created_at.eq(at),
                ))
                .execute(conn)?;
        }
        Ok(())
    })
}

/// Forgets a chapter's open findings (its text is being rewritten); dismissed and applied ones stay
/// as the record of what the author decided.
pub fn discard_open(conn: &mut DbConn, book_id: &str, chapter: i32) -> Result<(), DbError> {
    diesel::delete(
        findings::table
            .filter(findings::book_id.eq(book_id))
            .filter(findings::chapter_index.eq(chapter))
            .filter(findings::status.eq(OPEN)),
    )
    .execute(conn)?;
    Ok(())
}

#[derive(Clone, Debug, Serialize, Queryable, Selectable)]
#[diesel(table_name = findings)]
pub struct FindingRow {
    pub id: String,
    #[serde(skip)]
    pub book_id: String,
    pub chapter_index: i32,
    pub kind: String,
    pub severity: i32,
    pub quote: String,
    pub explanation: String,
    pub suggestion: String,
    pub status: String,
    pub created_at: chrono::NaiveDateTime,
    pub resolved_at: Option<chrono::NaiveDateTime>,
}

impl FindingRow {
    pub fn kind(&self) -> Option<FindingKind> {
        FindingKind::parse(&self.kind)
    }
}

/// The book's findings: chapter order, the most severe first.
pub fn list(conn: &mut DbConn, book_id: &str) -> Result<Vec<FindingRow>, DbError> {
    Ok(findings::table
        .filter(findings::book_id.eq(book_id))
        .order((
            findings::chapter_index.asc(),
            findings::severity.desc(),
            findings::created_at.asc(),
            findings::id.asc(),
        ))
        .select(FindingRow::as_select())
        .load(conn)?)
}

pub fn find(conn: &mut DbConn, book_id: &str, id: &str) -> Result<Option<FindingRow>, DbError> {
    Ok(findings::table
        .filter(findings::book_id.eq(book_id))
        .filter(findings::id.eq(id))
        .select(FindingRow::as_select())
        .first(conn)
        .optional()?)
}

/// Marks an open finding dismissed or applied; false when it was not open (nothing changed).
pub fn resolve(conn: &mut DbConn, book_id: &str, id: &str, status: &str) -> Result<bool, DbError> {
    let n = diesel::update(
        findings::table
            .filter(findings::book_id.eq(book_id))
            .filter(findings::id.eq(id))
            .filter(findings::status.eq(OPEN)),
    )
    .set((
        findings::status.eq(status),
        findings::resolved_at.eq(Some(now())),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Undoes `resolve` (an apply whose regeneration was refused).
pub fn reopen(conn: &mut DbConn, book_id: &str, id: &str) -> Result<(), DbError> {
    diesel::update(
        findings::table
            .filter(findings::book_id.eq(book_id))
            .filter(findings::id.eq(id)),
    )
    .set((
        findings::status.eq(OPEN),
        findings::resolved_at.eq(None::<chrono::NaiveDateTime>),
    ))
    .execute(conn)?;
    Ok(())
}
