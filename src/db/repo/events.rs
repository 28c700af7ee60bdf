//! Durable per-book events: appended with the next seq of the book, read back after a seq for replay.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::events;
use crate::db::{now, DbConn, DbError};

#[derive(Clone, Debug, Queryable, Selectable, Serialize)]
#[diesel(table_name = events)]
pub struct EventRow {
    pub book_id: String,
    pub seq: i64,
    pub kind: String,
    pub data: String,
    pub created_at: NaiveDateTime,
}

impl EventRow {
    /// As the engine and the WebSocket protocol see it.
    pub fn to_book_event(&self) -> buko_actors::BookEvent {
        buko_actors::BookEvent {
            book_id: self.book_id.clone(),
            seq: self.seq,
            kind: self.kind.clone(),
            data: serde_json::from_str(&self.data).unwrap_or(serde_json::Value::Null),
            at: self.created_at.and_utc(),
        }
    }
}

pub fn last_seq(conn: &mut DbConn, book_id: &str) -> Result<i64, DbError> {
    let max: Option<i64> = events::table
        .filter(events::book_id.eq(book_id))
        .select(diesel::dsl::max(events::seq))
        .first(conn)?;
    Ok(max.unwrap_or(0))
}

/// Appends with seq = last + 1. The primary key `(book_id, seq)` makes a concurrent duplicate fail
/// instead of reusing a seq; the single writer per book (the fenced job owner) never races itself.
pub fn append(
    conn: &mut DbConn,
    book_id: &str,
    kind: &str,
    data: &serde_json::Value,
) -> Result<EventRow, DbError> {
    crate::db::write_tx(conn, |conn| {
        let row = EventRow {
            book_id: book_id.to_string(),
            seq: last_seq(conn, book_id)? + 1,
            kind: kind.to_string(),
            data: data.to_string(),
            created_at: now(),
        };
        diesel::insert_into(events::table)
            .values((
                events::book_id.eq(&row.book_id),
                events::seq.eq(row.seq),
                events::kind.eq(&row.kind),
                events::data.eq(&row.data),
                events::created_at.eq(row.created_at),
            ))
            .execute(conn)?;
        Ok(row)
    })
}

/// Appends `events` in order, seq after seq, inside the caller's transaction (the outbox: they commit
/// or vanish with the state change they report).
pub fn append_all(
    conn: &mut DbConn,
    book_id: &str,
    events: &[buko_actors::NewEvent],
) -> Result<Vec<EventRow>, DbError> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let first = last_seq(conn, book_id)? + 1;
    let at = now();
    let rows: Vec<EventRow> = events
        .iter()
        .zip(first..)
        .map(|(e, seq)| EventRow {
            book_id: book_id.to_string(),
            seq,
            kind: e.kind.clone(),
            data: e.data.to_string(),
            created_at: at,
        })
        .collect();
    // One statement per row: the multi-backend connection has no batch insert.
    for r in &rows {
        diesel::insert_into(events::table)
            .values((
                events::book_id.eq(&r.book_id),
                events::seq.eq(r.seq),
                events::kind.eq(&r.kind),
                events::data.eq(&r.data),
                events::created_at.eq(r.created_at),
            ))
            .execute(conn)?;
    }
    Ok(rows)
}

/// Events with seq > `after`, oldest first, at most `limit`.
pub fn list_after(
    conn: &mut DbConn,
    book_id: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<EventRow>, DbError> {
    Ok(events::table
        .filter(events::book_id.eq(book_id))
        .filter(events::seq.gt(after))
        .order(events::seq.asc())
        .limit(limit)
        .select(EventRow::as_select())
        .load(conn)?)
}

/// Whether the book ever recorded an event of `kind` (e.g. it was completed once before).
pub fn has_kind(conn: &mut DbConn, book_id: &str, kind: &str) -> Result<bool, DbError> {
    let n: i64 = events::table
        .filter(events::book_id.eq(book_id))
        .filter(events::kind.eq(kind))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}
