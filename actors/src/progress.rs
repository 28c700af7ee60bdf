//! Messages the ProgressBroadcaster fans out, in the exact JSON shape of the WebSocket protocol (SPEC
//! "WebSocket"), so a session forwards them without re-encoding.

use serde::{Deserialize, Serialize};

use crate::ports::BookEvent;

/// Where a message goes: a book's watchers, one user's sessions, the admin dashboard, or everyone.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "topic", content = "id", rename_all = "snake_case")]
pub enum Topic {
    Book(String),
    User(String),
    Admin,
    All,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ProgressMessage {
    /// A durable event (status change, chunk started / completed, chapter completed, book completed, error).
    Event {
        book_id: String,
        seq: i64,
        kind: String,
        data: serde_json::Value,
        at: chrono::DateTime<chrono::Utc>,
    },
    /// Streamed text of the chunk in progress; `offset` is in chars from the chunk's start.
    Delta {
        book_id: String,
        chunk_seq: i64,
        offset: usize,
        text: String,
    },
    /// Text of the chunk in progress, sent on subscribe.
    Snapshot {
        book_id: String,
        chunk_seq: i64,
        text: String,
    },
    /// An operator's message to every session.
    Broadcast { message: String },
    /// Live figures for the admin dashboard.
    Stats { data: serde_json::Value },
}

impl ProgressMessage {
    pub fn from_event(e: BookEvent) -> Self {
        ProgressMessage::Event {
            book_id: e.book_id,
            seq: e.seq,
            kind: e.kind,
            data: e.data,
            at: e.at,
        }
    }

    pub fn book_id(&self) -> Option<&str> {
        match self {
            ProgressMessage::Event { book_id, .. }
            | ProgressMessage::Delta { book_id, .. }
            | ProgressMessage::Snapshot { book_id, .. } => Some(book_id),
            ProgressMessage::Broadcast { .. } | ProgressMessage::Stats { .. } => None,
        }
    }
}

/// Events later than this after their commit at a stage of their way out are logged.
pub const SLOW_EVENT: std::time::Duration = std::time::Duration::from_millis(25);

/// Logs (target `buko::lag`, debug) an event that reached `stage` more than [`SLOW_EVENT`] after its
/// commit: with the book and seq, the lines of one event's stages can be put side by side.
pub fn log_slow_event(stage: &str, lag: std::time::Duration, book_id: &str, seq: i64) {
    if lag > SLOW_EVENT {
        log::debug!(target: "buko::lag", stage = stage, book_id = book_id, seq = seq, lag_ms = lag.as_millis() as u64; "slow event");
    }
}

/// [`log_slow_event`] for an event stamped at `at`.
pub fn log_if_slow(stage: &str, at: chrono::DateTime<chrono::Utc>, book_id: &str, seq: i64) {
    if log::log_enabled!(target: "buko::lag", log::Level::Debug) {
        let lag = (chrono::Utc::now() - at).to_std().unwrap_or_default();
        log_slow_event(stage, lag, book_id, seq);
    }
}
