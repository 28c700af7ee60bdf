//! Fan-out of progress to subscribers (WebSocket sessions, the admin dashboard, other nodes): the
//! messages a subscriber receives and the messages the broadcaster accepts. The actor itself lives in
//! [`broadcaster`]; delta coalescing and per-book snapshots in [`stream`].

mod broadcaster;
mod stream;

use std::sync::Arc;

use actix::prelude::*;

pub use broadcaster::ProgressBroadcaster;

use crate::progress::{ProgressMessage, Topic};

/// One message as delivered: serialized once, shared by every subscriber (`json` is what a WebSocket
/// session writes as a text frame).
#[derive(Debug)]
pub struct Outgoing {
    pub message: ProgressMessage,
    pub json: Arc<str>,
}

/// What a subscriber's `Recipient<Deliver>` receives.
#[derive(Clone, Debug, Message)]
#[rtype(result = "()")]
pub enum Deliver {
    Message(Arc<Outgoing>),
    /// The subscriber was removed from every topic (its mailbox was full); sent once, then nothing more.
    Dropped {
        reason: String,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubscriberId(pub u64);

/// Adds a subscriber (on its `started`); then [`Subscribe`] it to topics.
#[derive(Message)]
#[rtype(result = "SubscriberId")]
pub struct Register {
    pub recipient: Recipient<Deliver>,
}

/// Removes a subscriber from every topic (on its `stopping`).
#[derive(Message)]
#[rtype(result = "()")]
pub struct Unregister {
    pub id: SubscriberId,
}

/// Subscribes to a topic; `false` when the id is unknown (e.g. it was dropped). Subscribing to
/// `Topic::Book` sends a `Snapshot` at once when a chunk of that book is being written.
#[derive(Message)]
#[rtype(result = "bool")]
pub struct Subscribe {
    pub id: SubscriberId,
    pub topic: Topic,
}

#[derive(Message)]
#[rtype(result = "()")]
pub struct Unsubscribe {
    pub id: SubscriberId,
    pub topic: Topic,
}

/// A message that originates on this node: delivered locally and handed to the `ProgressSink`.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Publish(pub ProgressMessage);

/// A message from another node (via the sink's transport): delivered locally only; updates snapshots.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Relay(pub ProgressMessage);

/// Who owns a book, so its events also reach `Topic::User(owner)`. `None` forgets it.
#[derive(Message)]
#[rtype(result = "()")]
pub struct SetBookOwner {
    pub book_id: String,
    pub user_id: Option<String>,
}

/// Raw streamed text from a chunk writer, coalesced into `Delta`s.
#[derive(Message)]
#[rtype(result = "()")]
pub struct ChunkStream {
    pub book_id: String,
    pub chunk_seq: i64,
    pub piece: StreamPiece,
}

#[derive(Debug)]
pub enum StreamPiece {
    /// A (new attempt at a) chunk starts: its text restarts from offset 0.
    Begin,
    Text(String),
    /// The chunk is no longer being written (committed, or the writer stopped).
    End,
}

/// Figures for metrics.
#[derive(Message)]
#[rtype(result = "BroadcasterCounts")]
pub struct GetCounts;

#[derive(Clone, Debug, Default, PartialEq, Eq, MessageResponse)]
pub struct BroadcasterCounts {
    pub subscribers: usize,
    pub topics: usize,
    pub books_streaming: usize,
    pub delivered: u64,
    pub dropped: u64,
}
