//! How a book's run ends, as the job queue sees it ([`BookOutcome`], [`BookFinished`]), and the
//! internal reasons a run stops early ([`Halt`]).

use std::time::Duration;

use actix::prelude::*;

use crate::ports::StoreError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BookOutcome {
    Completed,
    /// The book's status is `failed` with this reason.
    Failed(String),
    Cancelled,
    /// Stopped with status `paused` (the author paused it, or retries ran out); a new job resumes it.
    Paused(String),
    /// Another node owns the book now; nothing was written after noticing.
    Fenced,
    /// The provider's breaker is open: the book is `paused` (`provider_unavailable`) and should run
    /// again after this delay (the job is scheduled, no attempt spent). Only with
    /// `EngineConfig::yield_while_breaker_open`.
    WaitingForProvider(Duration),
}

/// Sent to `StartBook::done` once, when the book's run on this node is over.
#[derive(Clone, Debug, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct BookFinished {
    pub book_id: String,
    pub outcome: BookOutcome,
}

/// Why a run stopped before the end of the book.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Halt {
    Fenced,
    Failed(String),
    Paused(String),
    Cancelled,
    /// The store stayed unavailable through its retries: stop without an outcome, so the supervisor
    /// restarts the run later (it resumes from what is committed).
    StoreDown(String),
    /// The breaker is open; the status already says `paused` / `provider_unavailable`.
    ProviderWait(Duration),
}

impl Halt {
    pub(crate) fn from_store(context: &str, e: StoreError) -> Halt {
        match e {
            StoreError::Fenced(_) => Halt::Fenced,
            StoreError::Unavailable(m) => {
                Halt::StoreDown(format!("{context}: store unavailable: {m}"))
            }
            other => Halt::Failed(format!("{context}: {other}")),
        }
    }
}

impl From<Halt> for BookOutcome {
    fn from(h: Halt) -> Self {
        match h {
            Halt::Fenced => BookOutcome::Fenced,
            Halt::Failed(r) | Halt::StoreDown(r) => BookOutcome::Failed(r),
            Halt::Paused(r) => BookOutcome::Paused(r),
            Halt::Cancelled => BookOutcome::Cancelled,
            Halt::ProviderWait(d) => BookOutcome::WaitingForProvider(d),
        }
    }
}
