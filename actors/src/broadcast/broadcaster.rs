//! The ProgressBroadcaster actor (one per node): topics → subscribers, delta coalescing per book,
//! snapshots on subscribe, and the hand-off of local messages to the `ProgressSink`. It never blocks on
//! a subscriber: a full or closed mailbox is dropped, the others are unaffected.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use actix::dev::SendError;
use actix::prelude::*;

use super::stream::BookStream;
use super::*;
use crate::sink::ProgressSink;

struct Subscriber {
    recipient: Recipient<Deliver>,
    topics: HashSet<Topic>,
}

pub struct ProgressBroadcaster {
    sink: Arc<dyn ProgressSink>,
    coalesce: Duration,
    next_id: u64,
    subscribers: HashMap<SubscriberId, Subscriber>,
    topics: HashMap<Topic, HashSet<SubscriberId>>,
    streams: HashMap<String, BookStream>,
    /// Books with text not yet flushed.
    dirty: HashSet<String>,
    owners: HashMap<String, String>,
    delivered: u64,
    dropped: u64,
}

impl ProgressBroadcaster {
    /// `coalesce` is the delta period (zero: every piece is its own delta).
    pub fn new(sink: Arc<dyn ProgressSink>, coalesce: Duration) -> Self {
        ProgressBroadcaster {
            sink,
            coalesce,
            next_id: 1,
            subscribers: HashMap::new(),
            topics: HashMap::new(),
            streams: HashMap::new(),
            dirty: HashSet::new(),
            owners: HashMap::new(),
            delivered: 0,
            dropped: 0,
        }
    }

    fn topics_of(&self, message: &ProgressMessage) -> Vec<Topic> {
        match message {
            ProgressMessage::Event { book_id, kind, .. } => {
                let mut t = vec![Topic::Book(book_id.clone())];
                if let Some(user) = self.owners.get(book_id) {
                    t.push(Topic::User(user.clone()));
                }
                if matches!(kind.as_str(), "status" | "book_completed" | "error") {
                    t.push(Topic::Admin);
                }
                t
            }
            ProgressMessage::Delta { book_id, .. } | ProgressMessage::Snapshot { book_id, .. } => {
                vec![Topic::Book(book_id.clone())]
            }
            ProgressMessage::Broadcast { .. } => vec![Topic::All],
            ProgressMessage::Stats { .. } => vec![Topic::Admin],
        }
    }

    fn encode(message: ProgressMessage) -> Option<Arc<Outgoing>> {
        match serde_json::to_string(&message) {
            Ok(json) => Some(Arc::new(Outgoing {
                message,
                json: json.into(),
            })),
            Err(e) => {
                log::error!("cannot encode a progress message: {e}");
                None
            }
        }
    }

    /// Delivers to the topic's subscribers (each once), optionally to the sink too.
    fn deliver(&mut self, message: ProgressMessage, to_sink: bool) {
        if to_sink {
            self.sink.publish(&message);
        }
        let topics = self.topics_of(&message);
        let mut ids: Vec<SubscriberId> = topics
            .iter()
            .filter_map(|t| self.topics.get(t))
            .flat_map(|s| s.iter().copied())
            .collect();
        if ids.is_empty() {
            return;
        }
        if topics.len() > 1 {
            ids.sort_unstable();
            ids.dedup();
        }
        let Some(outgoing) = Self::encode(message) else {
            return;
        };
        for id in ids {
            self.send_to(id, Deliver::Message(outgoing.clone()));
        }
    }

    fn send_to(&mut self, id: SubscriberId, deliver: Deliver) {
        let Some(sub) = self.subscribers.get(&id) else {
            return;
        };
        match sub.recipient.try_send(deliver) {
            Ok(()) => self.delivered += 1,
            Err(SendError::Full(_)) => self.drop_subscriber(id, "too slow: outbound queue full"),
            Err(SendError::Closed(_)) => self.remove(id),
        }
    }

    fn drop_subscriber(&mut self, id: SubscriberId, reason: &str) {
        if let Some(sub) = self.subscribers.get(&id) {
            // do_send ignores the full mailbox: the subscriber learns why it stops receiving.
            sub.recipient.do_send(Deliver::Dropped {
                reason: reason.to_string(),
            });
            self.dropped += 1;
            log::info!("progress subscriber {} dropped: {reason}", id.0);
        }
        self.remove(id);
    }

    fn remove(&mut self, id: SubscriberId) {
        if let Some(sub) = self.subscribers.remove(&id) {
            for topic in sub.topics {
                if let Some(set) = self.topics.get_mut(&topic) {
                    set.remove(&id);
                    if set.is_empty() {
                        self.topics.remove(&topic);
                    }
                }
            }
        }
    }

    fn flush_book(&mut self, book_id: &str) {
        if !self.dirty.remove(book_id) {
            return;
        }
        let Some(stream) = self.streams.get_mut(book_id) else {
            return;
        };
        let chunk_seq = stream.chunk_seq;
        if let Some((offset, text)) = stream.take_pending() {
            let msg = ProgressMessage::Delta {
                book_id: book_id.to_string(),
                chunk_seq,
                offset,
                text,
            };
            self.deliver(msg, true);
        }
    }

    fn flush_all(&mut self) {
        let dirty: Vec<String> = self.dirty.iter().cloned().collect();
        for book in dirty {
            self.flush_book(&book);
        }
    }

    /// Keeps snapshots right for messages that did not come through `ChunkStream` (relays, and the
    /// durable chunk events that bracket a chunk).
    fn track(&mut self, message: &ProgressMessage, local: bool) {
        match message {
            ProgressMessage::Event {
                book_id,
                kind,
                data,
                ..
            } => {
                self.flush_book(book_id);
                match kind.as_str() {
                    "chunk_started" if !local => {
                        let seq = data.get("seq").and_then(|v| v.as_i64()).unwrap_or_default();
                        self.streams.insert(book_id.clone(), BookStream::new(seq));
                    }
                    "chunk_completed" | "book_completed" => {
                        self.streams.remove(book_id);
                    }
                    "status" => {
                        let s = data
                            .get("status")
                            .and_then(|v| v.as_str())
                            .unwrap_or_default();
                        if s != "generating" {
                            self.streams.remove(book_id);
                        }
                    }
                    _ => {}
                }
            }
            ProgressMessage::Delta {
                book_id,
                chunk_seq,
                offset,
                text,
            } if !local => {
                let stream = self
                    .streams
                    .entry(book_id.clone())
                    .or_insert_with(|| BookStream::new(*chunk_seq));
                if stream.chunk_seq != *chunk_seq {
                    *stream = BookStream::new(*chunk_seq);
                }
                stream.apply_remote(*offset, text);
            }
            _ => {}
        }
    }
}

impl Actor for ProgressBroadcaster {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // Writers use do_send, which ignores the mailbox capacity: a piece of text is never refused.
        if !self.coalesce.is_zero() {
            ctx.run_interval(self.coalesce, |act, _| act.flush_all());
        }
    }
}

impl Handler<Register> for ProgressBroadcaster {
    type Result = MessageResult<Register>;
    fn handle(&mut self, msg: Register, _: &mut Self::Context) -> Self::Result {
        let id = SubscriberId(self.next_id);
        self.next_id += 1;
        self.subscribers.insert(
            id,
            Subscriber {
                recipient: msg.recipient,
                topics: HashSet::new(),
            },
        );
        MessageResult(id)
    }
}

impl Handler<Unregister> for ProgressBroadcaster {
    type Result = ();
    fn handle(&mut self, msg: Unregister, _: &mut Self::Context) {
        self.remove(msg.id);
    }
}

impl Handler<Subscribe> for ProgressBroadcaster {
    type Result = bool;
    fn handle(&mut self, msg: Subscribe, _: &mut Self::Context) -> bool {
        if !self.subscribers.contains_key(&msg.id) {
            return false;
        }
        if let Topic::Book(book_id) = &msg.topic {
            // Existing watchers get the pending text first, so the snapshot is never behind them.
            self.flush_book(book_id);
        }
        if let Some(sub) = self.subscribers.get_mut(&msg.id) {
            sub.topics.insert(msg.topic.clone());
        }
        self.topics
            .entry(msg.topic.clone())
            .or_default()
            .insert(msg.id);
        if let Topic::Book(book_id) = msg.topic {
            let snapshot = self
                .streams
                .get(&book_id)
                .map(|s| ProgressMessage::Snapshot {
                    book_id: book_id.clone(),
                    chunk_seq: s.chunk_seq,
                    text: s.text.clone(),
                });
            if let Some(outgoing) = snapshot.and_then(Self::encode) {
                self.send_to(msg.id, Deliver::Message(outgoing));
            }
        }
        self.subscribers.contains_key(&msg.id)
    }
}

impl Handler<Unsubscribe> for ProgressBroadcaster {
    type Result = ();
    fn handle(&mut self, msg: Unsubscribe, _: &mut Self::Context) {
        if let Some(sub) = self.subscribers.get_mut(&msg.id) {
            sub.topics.remove(&msg.topic);
        }
        if let Some(set) = self.topics.get_mut(&msg.topic) {
            set.remove(&msg.id);
            if set.is_empty() {
                self.topics.remove(&msg.topic);
            }
        }
    }
}

impl Handler<Publish> for ProgressBroadcaster {
    type Result = ();
    fn handle(&mut self, msg: Publish, _: &mut Self::Context) {
        self.track(&msg.0, true);
        self.deliver(msg.0, true);
    }
}

impl Handler<Relay> for ProgressBroadcaster {
    type Result = ();
    fn handle(&mut self, msg: Relay, _: &mut Self::Context) {
        self.track(&msg.0, false);
        self.deliver(msg.0, false);
    }
}

impl Handler<SetBookOwner> for ProgressBroadcaster {
    type Result = ();
    fn handle(&mut self, msg: SetBookOwner, _: &mut Self::Context) {
        match msg.user_id {
            Some(user) => self.owners.insert(msg.book_id, user),
            None => self.owners.remove(&msg.book_id),
        };
    }
}

impl Handler<ChunkStream> for ProgressBroadcaster {
    type Result = ();
    fn handle(&mut self, msg: ChunkStream, _: &mut Self::Context) {
        match msg.piece {
            StreamPiece::Begin => {
                self.flush_book(&msg.book_id);
                self.streams
                    .insert(msg.book_id, BookStream::new(msg.chunk_seq));
            }
            StreamPiece::Text(text) => {
                let stream = self
                    .streams
                    .entry(msg.book_id.clone())
                    .or_insert_with(|| BookStream::new(msg.chunk_seq));
                if stream.chunk_seq != msg.chunk_seq {
                    return; // a late piece of an abandoned attempt
                }
                stream.push_local(&text);
                if self.coalesce.is_zero() {
                    self.dirty.insert(msg.book_id.clone());
                    self.flush_book(&msg.book_id);
                } else if !self.dirty.contains(&msg.book_id) {
                    self.dirty.insert(msg.book_id);
                }
            }
            StreamPiece::End => {
                self.flush_book(&msg.book_id);
                if self
                    .streams
                    .get(&msg.book_id)
                    .is_some_and(|s| s.chunk_seq == msg.chunk_seq)
                {
                    self.streams.remove(&msg.book_id);
                }
            }
        }
    }
}

impl Handler<GetCounts> for ProgressBroadcaster {
    type Result = BroadcasterCounts;
    fn handle(&mut self, _: GetCounts, _: &mut Self::Context) -> BroadcasterCounts {
        BroadcasterCounts {
            subscribers: self.subscribers.len(),
            topics: self.topics.len(),
            books_streaming: self.streams.len(),
            delivered: self.delivered,
            dropped: self.dropped,
        }
    }
}
