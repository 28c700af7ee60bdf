//! The engine's ports: the only way the actor tree reaches the world. `src/` implements them over awc,
//! diesel and Redis; tests implement them in memory. Nothing here may name HTTP, SQL or a provider SDK.
//!
//! Futures and streams are `!Send` (`Local…`): they are polled on the actor's arbiter, and the HTTP
//! client behind `LlmPort` (awc) is not `Send`. The port objects themselves are `Send + Sync` so one
//! instance can be shared by every arbiter of a node.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::stream::LocalBoxStream;
use serde::{Deserialize, Serialize};

use crate::model::Language;
pub use crate::usage::{Price, Usage};

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
    /// A cover image (priced per image, no tokens).
    CoverImage,
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
            CallPurpose::CoverImage => "cover_image",
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
    /// Chunk calls: the first `n` bytes of the first user message (after the system prompt) are the
    /// same for every chunk of the book (book, bible, outline of titles), so a provider may cache them
    /// (Anthropic: a `cache_control` breakpoint there; OpenAI-compatible: automatic prefix caching).
    #[serde(default)]
    pub stable_prefix: Option<usize>,
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

pub trait LlmPort: Send + Sync {
    /// Provider name (`anthropic`, `openai`, `offline`, …); also the circuit breaker's key.
    fn provider(&self) -> &str;
    fn model(&self) -> &str;
    /// The most output tokens one response may have; chunk planning stays below it.
    fn max_output_tokens(&self) -> u32;
    fn price(&self) -> Price;
    /// The model that answers calls made for `purpose` (a model per step); `model()` by default.
    fn model_for(&self, _purpose: CallPurpose) -> &str {
        self.model()
    }
    /// The price of the calls made for `purpose`.
    fn price_for(&self, _purpose: CallPurpose) -> Price {
        self.price()
    }
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
// Store (in `ports/store.rs`)
// ---------------------------------------------------------------------------------------------------

mod store;
pub use store::*;

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
