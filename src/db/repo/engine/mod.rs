//! The engine's storage operations as plain functions over `&mut DbConn` (so they compose and test
//! without the engine). Every write on behalf of a running generation is *fenced*: its transaction opens
//! with `UPDATE books … WHERE fence = :fence`, which both proves the caller still owns the book (a node
//! that came back after its lease was taken over writes nothing) and, being a write, takes SQLite's write
//! lock up front so a busy database waits instead of failing a read-then-write upgrade.
//!
//! Durable events are written in the transaction of the state change they report (an outbox):
//! `commit_chunk`, `save_chapter_summary` and `set_status` take them and return them as stored, with
//! the seqs given inside that transaction. `append_event` is for events that report no change.

use buko_actors::{
    Architecture, BookSnapshot, BookStatus, CallRecord, ChunkCommit, CommitOutcome, CommittedChunk,
    Fence, NewEvent, Usage,
};
use diesel::prelude::*;

use crate::db::repo::events::EventRow;
use crate::db::repo::jobs::{enqueue, JobPayload, NewJob};
use crate::db::schema::{books, chapters, chunks, llm_calls};
use crate::db::types::ChapterStatus;
use crate::db::{new_id, now, repo, DbConn, DbError};

mod controls;
pub use controls::{control, controls};

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("book {0} not found")]
    NotFound(String),
    #[error("book {0} is owned by a newer generation")]
    Fenced(String),
    #[error("stored architecture is invalid: {0}")]
    BadArchitecture(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for QueryError {
    fn from(e: diesel::result::Error) -> Self {
        QueryError::Db(DbError::Query(e))
    }
}

/// Makes `fence` the book's owner unless a newer owner exists. Called when a book job starts.
pub fn take_ownership(conn: &mut DbConn, book_id: &str, fence: Fence) -> Result<(), QueryError> {
    let n = diesel::update(books::table.find(book_id).filter(books::fence.le(fence.0)))
        .set((books::fence.eq(fence.0), books::updated_at.eq(now())))
        .execute(conn)?;
    if n == 1 {
        return Ok(());
    }
    Err(missing_or_fenced(conn, book_id)?)
}

fn missing_or_fenced(conn: &mut DbConn, book_id: &str) -> Result<QueryError, QueryError> {
    let exists: i64 = books::table.find(book_id).count().get_result(conn)?;
    Ok(if exists == 0 {
        QueryError::NotFound(book_id.into())
    } else {
        QueryError::Fenced(book_id.into())
    })
}

/// Runs `body` in a transaction that first proves ownership (see the module comment).
pub fn fenced<T>(
    conn: &mut DbConn,
    book_id: &str,
    fence: Fence,
    body: impl FnOnce(&mut DbConn) -> Result<T, QueryError>,
) -> Result<T, QueryError> {
    crate::db::write_tx(conn, |conn| {
        let n = diesel::update(books::table.find(book_id).filter(books::fence.eq(fence.0)))
            .set(books::updated_at.eq(now()))
            .execute(conn)?;
        if n != 1 {
            return Err(missing_or_fenced(conn, book_id)?);
        }
        body(conn)
    })
}

pub fn load_book(conn: &mut DbConn, book_id: &str) -> Result<BookSnapshot, QueryError> {
    type Row = (
        String,
        BookStatus,
        Option<String>,
        i64,
        i64,
        f64,
        Option<f64>,
    );
    let (user_id, status, architecture, input_tokens, output_tokens, spent_usd, budget_usd): Row =
        books::table
            .find(book_id)
            .select((
                books::user_id,
                books::status,
                books::architecture,
                books::input_tokens,
                books::output_tokens,
                books::cost_usd,
                books::budget_usd,
            ))
            .first(conn)
            .optional()?
            .ok_or_else(|| QueryError::NotFound(book_id.into()))?;
    let architecture: Architecture = serde_json::from_str(architecture.as_deref().unwrap_or(""))
        .map_err(|e| QueryError::BadArchitecture(e.to_string()))?;
    let committed = chunks::table
        .filter(chunks::book_id.eq(book_id))
        .order(chunks::seq.asc())
        .select((
            chunks::seq,
            chunks::chapter_index,
            chunks::part_index,
            chunks::words,
        ))
        .load::<(i64, i32, i32, i32)>(conn)?
        .into_iter()
        .map(|(seq, ch, part, words)| CommittedChunk {
            seq,
            chapter_index: usize::try_from(ch).unwrap_or(0),
            part_index: usize::try_from(part).unwrap_or(0),
            words: u32::try_from(words).unwrap_or(0),
        })
        .collect();
    let chapter_summaries = chapters::table
        .filter(chapters::book_id.eq(book_id))
        .filter(chapters::rolling_summary.is_not_null())
        .order(chapters::position.asc())
        .select((chapters::position, chapters::rolling_summary))
        .load::<(i32, Option<String>)>(conn)?
        .into_iter()
        .filter_map(|(p, s)| Some((usize::try_from(p).ok()?, s?)))
        .collect();
    Ok(BookSnapshot {
        book_id: book_id.to_string(),
        user_id,
        status,
        architecture,
        committed,
        chapter_summaries,
        last_event_seq: repo::events::last_seq(conn, book_id)?,
        spent: Usage::new(
            u64::try_from(input_tokens).unwrap_or(0),
            u64::try_from(output_tokens).unwrap_or(0),
        ),
        spent_usd,
        budget_usd,
        audit: repo::memory::audit_enabled(conn, book_id)?,
    })
}

pub fn chunk_text(
    conn: &mut DbConn,
    book_id: &str,
    seq: i64,
) -> Result<Option<String>, QueryError> {
    Ok(chunks::table
        .filter(chunks::book_id.eq(book_id))
        .filter(chunks::seq.eq(seq))
        .select(chunks::text)
        .first(conn)
        .optional()?)
}

/// Inserts the chunk once, with `events` (its `chunk_completed`) in the same transaction; a repeat of
/// the same `(book_id, seq)` changes nothing and writes no event (they came with the first commit).
pub fn commit_chunk(
    conn: &mut DbConn,
    c: &ChunkCommit,
    events: &[NewEvent],
) -> Result<(CommitOutcome, Vec<EventRow>), QueryError> {
    fenced(conn, &c.book_id, c.fence, |conn| {
        let exists: i64 = chunks::table
            .filter(chunks::book_id.eq(&c.book_id))
            .filter(chunks::seq.eq(c.seq))
            .count()
            .get_result(conn)?;
        if exists > 0 {
            return Ok((CommitOutcome::AlreadyPresent, Vec::new()));
        }
        let words = i32::try_from(c.words).unwrap_or(i32::MAX);
        let chapter = i32::try_from(c.chapter_index).unwrap_or(i32::MAX);
        diesel::insert_into(chunks::table)
            .values((
                chunks::id.eq(new_id()),
                chunks::book_id.eq(&c.book_id),
                chunks::seq.eq(c.seq),
                chunks::chapter_index.eq(chapter),
                chunks::part_index.eq(i32::try_from(c.part_index).unwrap_or(i32::MAX)),
                chunks::text.eq(&c.text),
                chunks::words.eq(words),
                chunks::input_tokens.eq(to_i64(c.usage.input_tokens)),
                chunks::output_tokens.eq(to_i64(c.usage.output_tokens)),
                chunks::fence.eq(c.fence.0),
                chunks::created_at.eq(now()),
            ))
            .execute(conn)?;
        diesel::update(books::table.find(&c.book_id))
            .set((
                books::chunks_done.eq(books::chunks_done + 1),
                books::words.eq(books::words + i64::from(words)),
                books::version.eq(books::version + 1),
            ))
            .execute(conn)?;
        diesel::update(
            chapters::table
                .filter(chapters::book_id.eq(&c.book_id))
                .filter(chapters::position.eq(chapter)),
        )
        .set((
            chapters::words.eq(chapters::words + words),
            chapters::updated_at.eq(now()),
        ))
        .execute(conn)?;
        // Written from now on; `done` comes with its summary, or with the book's completion for the
        // last chapter (which needs no summary).
        diesel::update(
            chapters::table
                .filter(chapters::book_id.eq(&c.book_id))
                .filter(chapters::position.eq(chapter))
                .filter(chapters::status.eq(ChapterStatus::Pending)),
        )
        .set(chapters::status.eq(ChapterStatus::Writing))
        .execute(conn)?;
        let events = repo::events::append_all(conn, &c.book_id, events)?;
        Ok((CommitOutcome::Inserted, events))
    })
}

/// Forgets a chapter's text and every rolling summary from it on, so the engine rewrites it.
pub fn discard_chapter(
    conn: &mut DbConn,
    book_id: &str,
    chapter: usize,
    fence: Fence,
) -> Result<(), QueryError> {
    let chapter = i32::try_from(chapter).unwrap_or(i32::MAX);
    fenced(conn, book_id, fence, |conn| {
        diesel::delete(
            chunks::table
                .filter(chunks::book_id.eq(book_id))
                .filter(chunks::chapter_index.eq(chapter)),
        )
        .execute(conn)?;
        diesel::update(
            chapters::table
                .filter(chapters::book_id.eq(book_id))
                .filter(chapters::position.ge(chapter)),
        )
        .set(chapters::rolling_summary.eq(None::<String>))
        .execute(conn)?;
        diesel::update(
            chapters::table
                .filter(chapters::book_id.eq(book_id))
                .filter(chapters::position.eq(chapter)),
        )
        .set((
            chapters::words.eq(0),
            chapters::status.eq(ChapterStatus::Pending),
        ))
        .execute(conn)?;
        repo::memory::discard_open(conn, book_id, chapter)?;
        recount(conn, book_id)
    })
}

/// Recomputes the book's progress from its chunks (after a chapter was discarded).
fn recount(conn: &mut DbConn, book_id: &str) -> Result<(), QueryError> {
    let (count, words): (i64, Option<i64>) = chunks::table
        .filter(chunks::book_id.eq(book_id))
        .select((diesel::dsl::count_star(), diesel::dsl::sum(chunks::words)))
        .first(conn)?;
    diesel::update(books::table.find(book_id))
        .set((
            books::chunks_done.eq(i32::try_from(count).unwrap_or(i32::MAX)),
            books::words.eq(words.unwrap_or(0)),
            books::version.eq(books::version + 1),
        ))
        .execute(conn)?;
    Ok(())
}

/// Saves the chapter's rolling summary (the chapter is done) with `events` in the same transaction.
pub fn save_chapter_summary(
    conn: &mut DbConn,
    book_id: &str,
    chapter: usize,
    summary: &str,
    events: &[NewEvent],
    fence: Fence,
) -> Result<Vec<EventRow>, QueryError> {
    let chapter = i32::try_from(chapter).unwrap_or(i32::MAX);
    fenced(conn, book_id, fence, |conn| {
        diesel::update(
            chapters::table
                .filter(chapters::book_id.eq(book_id))
                .filter(chapters::position.eq(chapter)),
        )
        .set((
            chapters::rolling_summary.eq(Some(summary)),
            chapters::status.eq(ChapterStatus::Done),
            chapters::updated_at.eq(now()),
        ))
        .execute(conn)?;
        Ok(repo::events::append_all(conn, book_id, events)?)
    })
}

pub fn save_plan(
    conn: &mut DbConn,
    book_id: &str,
    chunks_total: u32,
    fence: Fence,
) -> Result<(), QueryError> {
    fenced(conn, book_id, fence, |conn| {
        diesel::update(books::table.find(book_id))
            .set(books::chunks_total.eq(i32::try_from(chunks_total).unwrap_or(i32::MAX)))
            .execute(conn)?;
        Ok(())
    })
}

/// Sets the status with `events` (its `status` event and what comes with it) in the same transaction;
/// on the first completion also enqueues the author's notification there.
pub fn set_status(
    conn: &mut DbConn,
    book_id: &str,
    status: BookStatus,
    reason: Option<&str>,
    events: &[NewEvent],
    fence: Fence,
) -> Result<Vec<EventRow>, QueryError> {
    fenced(conn, book_id, fence, |conn| {
        let completed_at = (status == BookStatus::Completed).then(now);
        diesel::update(books::table.find(book_id))
            .set((
                books::status.eq(status.as_str()),
                books::status_reason.eq(reason),
                books::completed_at.eq(completed_at),
            ))
            .execute(conn)?;
        if status == BookStatus::Completed {
            diesel::update(chapters::table.filter(chapters::book_id.eq(book_id)))
                .set(chapters::status.eq(ChapterStatus::Done))
                .execute(conn)?;
            // One "book ready" mail per book: a book completed before (then regenerated) was announced.
            if !crate::db::repo::events::has_kind(conn, book_id, "book_completed")? {
                enqueue(
                    conn,
                    NewJob::now(JobPayload::BookCompletedEmail {
                        book_id: book_id.to_string(),
                    }),
                )?;
            }
        }
        Ok(repo::events::append_all(conn, book_id, events)?)
    })
}

pub fn append_event(
    conn: &mut DbConn,
    book_id: &str,
    kind: &str,
    data: &serde_json::Value,
    fence: Fence,
) -> Result<repo::events::EventRow, QueryError> {
    fenced(conn, book_id, fence, |conn| {
        Ok(repo::events::append(conn, book_id, kind, data)?)
    })
}

/// Records a call's usage and adds it to the book's totals. Not fenced: a call a stale node made still
/// cost money and belongs in the accounts.
pub fn record_call(conn: &mut DbConn, call: &CallRecord) -> Result<(), QueryError> {
    crate::db::write_tx(conn, |conn| {
        let user_id: Option<String> = match &call.book_id {
            Some(id) => books::table
                .find(id)
                .select(books::user_id)
                .first(conn)
                .optional()?,
            None => None,
        };
        diesel::insert_into(llm_calls::table)
            .values((
                llm_calls::id.eq(new_id()),
                llm_calls::book_id.eq(user_id.as_ref().and(call.book_id.as_ref())),
                llm_calls::user_id.eq(&user_id),
                llm_calls::purpose.eq(call.purpose.as_str()),
                llm_calls::provider.eq(&call.provider),
                llm_calls::model.eq(&call.model),
                llm_calls::input_tokens.eq(to_i64(call.usage.input_tokens)),
                llm_calls::output_tokens.eq(to_i64(call.usage.output_tokens)),
                llm_calls::cost_usd.eq(call.cost_usd),
                llm_calls::latency_ms.eq(to_i64(call.latency_ms)),
                llm_calls::status.eq(&call.status),
                llm_calls::error_kind.eq(call.error_kind.map(|k| k.as_str())),
                llm_calls::request_id.eq(&call.request_id),
                llm_calls::created_at.eq(call.at.naive_utc()),
                llm_calls::cache_creation_tokens.eq(to_i64(call.usage.cache_creation_input_tokens)),
                llm_calls::cache_read_tokens.eq(to_i64(call.usage.cache_read_input_tokens)),
            ))
            .execute(conn)?;
        if let (Some(book_id), Some(_)) = (&call.book_id, &user_id) {
            diesel::update(books::table.find(book_id))
                .set((
                    books::input_tokens.eq(books::input_tokens + to_i64(call.usage.input_tokens)),
                    books::output_tokens
                        .eq(books::output_tokens + to_i64(call.usage.output_tokens)),
                    books::cost_usd.eq(books::cost_usd + call.cost_usd),
                    books::cache_creation_tokens.eq(books::cache_creation_tokens
                        + to_i64(call.usage.cache_creation_input_tokens)),
                    books::cache_read_tokens
                        .eq(books::cache_read_tokens + to_i64(call.usage.cache_read_input_tokens)),
                ))
                .execute(conn)?;
        }
        Ok(())
    })
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}
