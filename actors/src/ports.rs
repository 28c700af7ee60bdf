//! The engine's ports: the only way the actor tree reaches the world. `src/` implements them over awc,
//! diesel and Redis; tests implement them in memory. Nothing here may name HTTP, SQL or a provider SDK.
//!
//! Futures and streams are `!Send` (`Local…`): they are polled on the actor's arbiter, and the HTTP
//! client behind `LlmPort` (awc) is not `Send`. The port objects themselves are `Send + Sync` so one
//! instance can be shared by every arbiter of a node.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::future::LocalBoxFuture;
use futures_util::stream::LocalBoxStream;
use serde::{Deserialize, Serialize};

use crate::model::{Architecture, BookStatus, Finding, Language, Ledger};

// ---------------------------------------------------------------------------------------------------
// LLM
// ---------------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    User,
    Assistant,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub content: String,
}

/// Why a call is made; recorded with its usage and used by the offline writer to pick what to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallPurpose {
    Architecture,
    Chunk,
    Summary,
    /// A note on one part of a long chapter (merged into the rolling summary).
    Note,
    /// The story ledger of a finished chapter (JSON).
    Ledger,
    /// The continuity audit of a finished chapter (JSON findings).
    Audit,
}

impl CallPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            CallPurpose::Architecture => "architecture",
            CallPurpose::Chunk => "chunk",
            CallPurpose::Summary => "summary",
            CallPurpose::Note => "note",
            CallPurpose::Ledger => "ledger",
            CallPurpose::Audit => "audit",
        }
    }
}

/// Structured facts about the request that real providers ignore (they read the prompt) and the offline
/// writer uses to produce deterministic, on-topic demo text without parsing prompts.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RequestContext {
    pub book_id: Option<String>,
    pub language: Language,
    /// Architecture calls: the author's idea and wizard answers.
    pub idea: Option<String>,
    pub genre: Option<String>,
    pub audience: Option<String>,
    pub tone: Option<String>,
    pub target_pages: Option<u32>,
    /// Chunk and summary calls.
    pub book_title: Option<String>,
    pub chapter_index: Option<usize>,
    pub chapter_title: Option<String>,
    pub key_points: Vec<String>,
    /// Global chunk sequence number (1-based) and the part within its chapter (0-based).
    pub seq: Option<i64>,
    pub part_index: Option<usize>,
    pub parts_in_chapter: Option<usize>,
    pub word_budget: Option<u32>,
    /// True when this call continues a response that stopped on `max_tokens`.
    pub continuation: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompletionRequest {
    pub purpose: CallPurpose,
    pub system: String,
    /// The conversation; a trailing `Assistant` message is a prefill that the response continues.
    pub messages: Vec<Message>,
    pub max_tokens: u32,
    pub temperature: Option<f32>,
    pub context: RequestContext,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    EndTurn,
    MaxTokens,
    StopSequence,
    Refusal,
    /// The provider paused a long turn (Anthropic `pause_turn`): send the text back to continue it.
    PauseTurn,
    /// The prompt plus the answer reached the model's context window: the text is cut short and
    /// continuing cannot help (Anthropic `model_context_window_exceeded`).
    ContextWindowExceeded,
    /// A stop reason this code does not know: never taken as a finished answer.
    Other(String),
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
}

impl Usage {
    pub fn add(&mut self, other: Usage) {
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
    }
}

/// What a streaming completion yields. Thinking is never surfaced: it is not book text.
#[derive(Clone, Debug, PartialEq)]
pub enum LlmEvent {
    /// A piece of the answer's text, in order.
    TextDelta(String),
    /// Usage reported so far (cumulative; e.g. input tokens at the start of a stream). Lets a caller
    /// account for what an attempt cost when the stream fails before `Finished`.
    Usage(Usage),
    /// The response ended normally (`max_tokens` included: the caller decides to continue).
    Finished {
        stop_reason: StopReason,
        usage: Usage,
        request_id: Option<String>,
    },
}

/// What went wrong, finely enough for metrics and readable reasons.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LlmErrorKind {
    RateLimited,
    Overloaded,
    Server,
    Timeout,
    Stalled,
    Connection,
    StreamError,
    Malformed,
    InvalidRequest,
    Authentication,
    Permission,
    NotFound,
    TooLarge,
    SpendLimit,
    Refused,
}

impl LlmErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LlmErrorKind::RateLimited => "rate_limited",
            LlmErrorKind::Overloaded => "overloaded",
            LlmErrorKind::Server => "server",
            LlmErrorKind::Timeout => "timeout",
            LlmErrorKind::Stalled => "stalled",
            LlmErrorKind::Connection => "connection",
            LlmErrorKind::StreamError => "stream_error",
            LlmErrorKind::Malformed => "malformed",
            LlmErrorKind::InvalidRequest => "invalid_request",
            LlmErrorKind::Authentication => "authentication",
            LlmErrorKind::Permission => "permission",
            LlmErrorKind::NotFound => "not_found",
            LlmErrorKind::TooLarge => "too_large",
            LlmErrorKind::SpendLimit => "spend_limit",
            LlmErrorKind::Refused => "refused",
        }
    }
}

impl std::fmt::Display for LlmErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The two classes the retry policy acts on.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum LlmError {
    /// Worth retrying after a delay (never sooner than `retry_after` when the provider said so).
    #[error("temporary provider error ({kind}): {message}")]
    Temporary {
        kind: LlmErrorKind,
        message: String,
        retry_after: Option<Duration>,
    },
    /// Retrying cannot help; the book fails with this reason until the operator fixes the cause.
    #[error("permanent provider error ({kind}): {message}")]
    Permanent { kind: LlmErrorKind, message: String },
}

impl LlmError {
    pub fn temporary(kind: LlmErrorKind, message: impl Into<String>) -> Self {
        LlmError::Temporary {
            kind,
            message: message.into(),
            retry_after: None,
        }
    }
    pub fn permanent(kind: LlmErrorKind, message: impl Into<String>) -> Self {
        LlmError::Permanent {
            kind,
            message: message.into(),
        }
    }
    pub fn kind(&self) -> LlmErrorKind {
        match self {
            LlmError::Temporary { kind, .. } | LlmError::Permanent { kind, .. } => *kind,
        }
    }
    pub fn is_temporary(&self) -> bool {
        matches!(self, LlmError::Temporary { .. })
    }
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            LlmError::Temporary { retry_after, .. } => *retry_after,
            LlmError::Permanent { .. } => None,
        }
    }
}

/// USD per million tokens.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Price {
    pub input_per_mtok: f64,
    pub output_per_mtok: f64,
}

impl Price {
    pub fn cost(&self, usage: Usage) -> f64 {
        (usage.input_tokens as f64 * self.input_per_mtok
            + usage.output_tokens as f64 * self.output_per_mtok)
            / 1_000_000.0
    }
}

pub trait LlmPort: Send + Sync {
    /// Provider name (`anthropic`, `openai`, `offline`, …); also the circuit breaker's key.
    fn provider(&self) -> &str;
    fn model(&self) -> &str;
    /// The most output tokens one response may have; chunk planning stays below it.
    fn max_output_tokens(&self) -> u32;
    fn price(&self) -> Price;
    /// True when the text is offline demo text (labelled as such in the UI and exports).
    fn is_demo(&self) -> bool {
        false
    }
    /// Streams one completion. Errors before or during the stream arrive as `Err` items; after an `Err`
    /// or `Finished` the stream yields nothing more.
    fn stream(
        &self,
        request: CompletionRequest,
    ) -> LocalBoxStream<'static, Result<LlmEvent, LlmError>>;
}

// ---------------------------------------------------------------------------------------------------
// Store
// ---------------------------------------------------------------------------------------------------

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

pub trait BookStore: Send + Sync {
    fn load_book(&self, book_id: &str)
        -> LocalBoxFuture<'static, Result<BookSnapshot, StoreError>>;
    fn chunk_text(
        &self,
        book_id: &str,
        seq: i64,
    ) -> LocalBoxFuture<'static, Result<Option<String>, StoreError>>;
    /// Idempotent by `(book_id, seq)`; refuses a stale fence with `Fenced`.
    fn commit_chunk(
        &self,
        chunk: ChunkCommit,
    ) -> LocalBoxFuture<'static, Result<CommitOutcome, StoreError>>;
    /// Removes a chapter's chunks and the summaries from that chapter on, so the chapter is rewritten.
    fn discard_chapter(
        &self,
        book_id: &str,
        chapter_index: usize,
        fence: Fence,
    ) -> LocalBoxFuture<'static, Result<(), StoreError>>;
    fn save_chapter_summary(
        &self,
        book_id: &str,
        chapter_index: usize,
        summary: String,
        fence: Fence,
    ) -> LocalBoxFuture<'static, Result<(), StoreError>>;
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
    fn set_status(
        &self,
        book_id: &str,
        status: BookStatus,
        reason: Option<String>,
        fence: Fence,
    ) -> LocalBoxFuture<'static, Result<(), StoreError>>;
    /// Appends a durable event with the next seq of the book and returns it as stored.
    fn append_event(
        &self,
        book_id: &str,
        kind: &str,
        data: serde_json::Value,
        fence: Fence,
    ) -> LocalBoxFuture<'static, Result<BookEvent, StoreError>>;
    fn record_call(&self, call: CallRecord) -> LocalBoxFuture<'static, Result<(), StoreError>>;
    fn control(&self, book_id: &str) -> LocalBoxFuture<'static, Result<Control, StoreError>>;
}

// ---------------------------------------------------------------------------------------------------
// Time
// ---------------------------------------------------------------------------------------------------

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}
