//! The port through which a control reaches the engine writing the book, wherever it runs. The
//! database flag (`books.control`) stays the source of truth — an orchestrator also reads it every
//! `EngineConfig::control_poll` — this signal only makes the stop immediate (the adapter sends
//! `StopBook` to this node's supervisor and publishes it for the other nodes).

use futures_util::future::LocalBoxFuture;

use crate::db::repo::events::EventRow;

/// A stop the author asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    Pause,
    Cancel,
}

impl Stop {
    pub fn as_str(self) -> &'static str {
        match self {
            Stop::Pause => "pause",
            Stop::Cancel => "cancel",
        }
    }

    pub fn parse(s: &str) -> Option<Stop> {
        match s {
            "pause" => Some(Stop::Pause),
            "cancel" => Some(Stop::Cancel),
            _ => None,
        }
    }

    pub fn engine_control(self) -> buko_actors::Control {
        match self {
            Stop::Pause => buko_actors::Control::Pause,
            Stop::Cancel => buko_actors::Control::Cancel,
        }
    }
}

/// Delivers a stop to the engine (best effort: the flag in the database is already written).
pub trait EngineSignal: Send + Sync {
    fn stop(&self, book_id: &str, stop: Stop) -> LocalBoxFuture<'static, ()>;
    /// Publishes a durable event a use case wrote (to this node's watchers and, through the
    /// progress bus, every other node's).
    fn publish(&self, event: EventRow);
}
