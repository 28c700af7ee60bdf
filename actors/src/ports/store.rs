//! The store port: books, chunks, durable events and usage as the engine reads and writes them.
//! Durable events that report a state change are written with it (`NewEvent`s passed to the
//! change), so a store can commit both in one transaction.

use chrono::{DateTime, Utc};
use futures_util::future::LocalBoxFuture;
use serde::{Deserialize, Serialize};

use super::{CallPurpose, LlmErrorKind, Usage};
use crate::model::{Architecture, BookStatus, Finding, Ledger};

/// Proof of ownership of a book's generation (the job lease's fencing counter). A store refuses writes
/// carrying a fence older than the book's current one, so a node that came back late cannot overwrite
/// the work of the node that took over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub struct Fence(pub i64);

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum StoreError {
    #[error("book {0} not found")]
    NotFound(String),
    /// Another owner holds the book now; stop without touching anything.
    #[error("lost ownership of book {0}")]
    Fenced(String),
    /// Database briefly unreachable or busy; retry.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    #[error("store error: {0}")]
    Other(String),
}

/// A chunk already committed (text not included; see `BookStore::chunk_text`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CommittedChunk {
    pub seq: i64,
    pub chapter_index: usize,
    pub part_index: usize,
    pub words: u32,
}

/// Everything an orchestrator needs to (re)start a book.
#[derive(Clone, Debug, PartialEq)]
pub struct BookSnapshot {
    pub book_id: String,
    pub user_id: String,
    pub status: BookStatus,
    pub architecture: Architecture,
    /// Ordered by seq.
    pub committed: Vec<CommittedChunk>,
    /// Rolling summary after each finished chapter: `(chapter_index, summary)`.
    pub chapter_summaries: Vec<(usize, String)>,
    /// Highest durable event seq so far (0 when none); new events continue after it.
    pub last_event_seq: i64,
    /// Usage and cost of every LLM call recorded for the book so far (earlier runs included), so
    /// `book_completed` reports the book's totals, not the last run's.
    pub spent: Usage,
    pub spent_usd: f64,
    /// The book's cost limit (USD): no call starts that could take `spent_usd` past it. `None`: none.
    pub budget_usd: Option<f64>,
    /// The continuity audit runs after each chapter (on unless the author turned it off).
    pub audit: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ChunkCommit {
    pub book_id: String,
    pub seq: i64,
    pub chapter_index: usize,
    pub part_index: usize,
    pub text: String,
    pub words: u32,
    pub usage: Usage,
    pub fence: Fence,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommitOutcome {
    Inserted,
    /// `(book_id, seq)` was already committed (a retry after a crash); nothing changed.
    AlreadyPresent,
}

/// A durable, per-book ordered event (SPEC WebSocket `event`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BookEvent {
    pub book_id: String,
    pub seq: i64,
    pub kind: String,
    pub data: serde_json::Value,
    pub at: DateTime<Utc>,
}

/// A durable event to write in the same transaction as the state change it reports (the store's
/// outbox): the store gives it the book's next seq inside that transaction, so a crash leaves either
/// both the change and its event or neither.
#[derive(Clone, Debug, PartialEq)]
pub struct NewEvent {
    pub kind: String,
    pub data: serde_json::Value,
}

impl NewEvent {
    pub fn new(kind: &str, data: serde_json::Value) -> Self {
        NewEvent {
            kind: kind.to_string(),
            data,
        }
    }
}

/// One LLM call's outcome, for `llm_calls` and per-book usage.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallRecord {
    pub book_id: Option<String>,
    pub purpose: CallPurpose,
    pub provider: String,
    pub model: String,
    pub usage: Usage,
    pub cost_usd: f64,
    pub latency_ms: u64,
    /// `ok`, or the error class (`temporary` / `permanent`).
    pub status: String,
    pub error_kind: Option<LlmErrorKind>,
    pub request_id: Option<String>,
    pub at: DateTime<Utc>,
}

/// What the author asked for, read by a running orchestrator between chunks (works across nodes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    Run,
    Pause,
    Cancel,
}

/// Where a store hands the events it has just committed: the node's broadcaster, wrapped by
/// `Engine::start` (see [`BookStore::publish_commits_to`]). Callable from any thread.
pub type CommittedEvents = std::sync::Arc<dyn Fn(BookEvent) + Send + Sync>;

pub trait BookStore: Send + Sync {
    /// Offers the store the node's broadcaster (as a function of one event), to publish the events it commits itself, from the
    /// thread that committed them, the moment their transaction commits (they then do not wait for
    /// the engine's thread, busy with other books, to pick up the result). Returns whether it does;
    /// when it does not (the default), the engine publishes the events each call returns. Either way
    /// a book's events are published in the store's order: a book makes one store call at a time.
    fn publish_commits_to(&self, _publish: CommittedEvents) -> bool {
        false
    }

    fn load_book(&self, book_id: &str)
        -> LocalBoxFuture<'static, Result<BookSnapshot, StoreError>>;
    fn chunk_text(
        &self,
        book_id: &str,
        seq: i64,
    ) -> LocalBoxFuture<'static, Result<Option<String>, StoreError>>;
    /// Idempotent by `(book_id, seq)`; refuses a stale fence with `Fenced`. `events` are written in the
    /// same transaction and returned as stored (none when the chunk was already present: they were
    /// written with it).
    fn commit_chunk(
        &self,
        chunk: ChunkCommit,
        events: Vec<NewEvent>,
    ) -> LocalBoxFuture<'static, Result<(CommitOutcome, Vec<BookEvent>), StoreError>>;
    /// Removes a chapter's chunks and the summaries from that chapter on, so the chapter is rewritten.
    fn discard_chapter(
        &self,
        book_id: &str,
        chapter_index: usize,
        fence: Fence,
    ) -> LocalBoxFuture<'static, Result<(), StoreError>>;
    /// Saves the rolling summary after a chapter with `events` (its `chapter_completed`) in the same
    /// transaction; returns them as stored.
    fn save_chapter_summary(
        &self,
        book_id: &str,
        chapter_index: usize,
        summary: String,
        events: Vec<NewEvent>,
        fence: Fence,
    ) -> LocalBoxFuture<'static, Result<Vec<BookEvent>, StoreError>>;
    /// Adds what a chapter taught (the story ledger) to the book's `bible.learned` and returns the
    /// ledger as stored: entries already there (the author may have edited them) are kept as they are
    /// (`Ledger::merged` against the stored architecture).
    fn merge_ledger(
        &self,
        book_id: &str,
        learned: Ledger,
        fence: Fence,
    ) -> LocalBoxFuture<'static, Result<Ledger, StoreError>>;
    /// Replaces the open audit findings of a chapter (idempotent: a run restarted after the audit
    /// writes the same chapter's findings again, not twice).
    fn save_audit(
        &self,
        book_id: &str,
        chapter_index: usize,
        findings: Vec<Finding>,
        fence: Fence,
    ) -> LocalBoxFuture<'static, Result<(), StoreError>>;
    /// Records the planned number of chunks (progress = committed / planned).
    fn save_plan(
        &self,
        book_id: &str,
        chunks_total: u32,
        fence: Fence,
    ) -> LocalBoxFuture<'static, Result<(), StoreError>>;
    /// Sets the status with `events` (its `status` event and what comes with it, e.g. `error` or
    /// `book_completed`) in the same transaction, in order; returns them as stored.
    fn set_status(
        &self,
        book_id: &str,
        status: BookStatus,
        reason: Option<String>,
        events: Vec<NewEvent>,
        fence: Fence,
    ) -> LocalBoxFuture<'static, Result<Vec<BookEvent>, StoreError>>;
    /// Appends a durable event that reports no state change (`chunk_started`) with the next seq of the
    /// book and returns it as stored.
    fn append_event(
        &self,
        book_id: &str,
        kind: &str,
        data: serde_json::Value,
        fence: Fence,
    ) -> LocalBoxFuture<'static, Result<BookEvent, StoreError>>;
    fn record_call(&self, call: CallRecord) -> LocalBoxFuture<'static, Result<(), StoreError>>;
    fn control(&self, book_id: &str) -> LocalBoxFuture<'static, Result<Control, StoreError>>;
    /// The flags of many books in one read (the node's supervisor polls every book it runs at
    /// once): the books whose flag is not `Run`; unknown ids are left out.
    fn controls(
        &self,
        book_ids: Vec<String>,
    ) -> LocalBoxFuture<'static, Result<Vec<(String, Control)>, StoreError>>;
}
