//! The engine's outward port for progress: where the local broadcaster sends what originates on
//! this node (e.g. Redis, for the other nodes). Apart from `ports.rs` because it speaks the progress
//! protocol, which itself is made of the ports' events.

use crate::progress::ProgressMessage;

/// Outward fan-out of what the local broadcaster publishes (e.g. to Redis for other nodes). The local
/// broadcaster calls it for messages that originate on this node only, never for relayed ones.
pub trait ProgressSink: Send + Sync {
    fn publish(&self, message: &ProgressMessage);
}

/// A sink that sends nowhere (single node).
pub struct NoRemote;

impl ProgressSink for NoRemote {
    fn publish(&self, _message: &ProgressMessage) {}
}
