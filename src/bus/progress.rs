//! Progress across nodes. [`RedisProgressSink`] is the engine's `ProgressSink`: the broadcaster hands it
//! every locally-originated message, which is published on one Redis channel. [`start_relay`]
//! subscribes on a dedicated pub/sub connection (the shared connection cannot SUBSCRIBE) and hands
//! other nodes' messages to a callback — in the app, `move |m| broadcaster.do_send(Relay(m))`. Both
//! reconnect with backoff.
//!
//! Messages travel in batches: whatever queued while the last PUBLISH was in flight (up to
//! [`BATCH`] messages or [`BATCH_BYTES`]) goes out as *one* PUBLISH whose payload is the sending
//! node's id, a newline, and a JSON array of the messages. So the publisher's throughput grows with
//! the backlog instead of being bounded by one round trip per few hundred messages (under CPU
//! contention round trips slow down, and a per-message publisher fell behind and dropped text),
//! Redis does one fan-out per batch, and a relay skips its own node's batches by the id alone,
//! without parsing them.
//!
//! Publishing never drops what it holds because Redis was slow: a batch that failed is kept and sent
//! again with backoff (0.1 s doubling to 2 s) while new messages queue behind it, in order. The queue
//! is bounded for text: past [`QUEUE`] messages a new text delta (or snapshot) is dropped, never a
//! durable event (those are few: a handful per chunk; they are bounded apart, at [`EVENT_QUEUE`]).
//! Drops are counted (`buko_progress_publish_dropped_total`). A retried batch may arrive twice: events
//! are deduplicated by seq and deltas by offset, at the broadcaster and in the sessions. What is lost
//! anyway (dropped text, a pub/sub reconnect) is repaired downstream: a session refills missing events
//! from the database and asks for a snapshot when a delta does not fit.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use buko_actors::progress::ProgressMessage;
use buko_actors::ProgressSink;
use futures_util::{FutureExt, StreamExt};
use tokio::sync::Notify;

use super::redis::{BusError, Redis};

/// The channel; its suffix is the payload's format (a node of another format would not read it).
pub const CHANNEL: &str = "buko:progress:2";
/// Messages waiting to be published; past this a new text delta is dropped rather than grow memory.
const QUEUE: usize = 10_000;
/// Durable events waiting to be published; only past this (a Redis outage of many minutes) is one
/// dropped (the other nodes' sessions still refill it from the database).
const EVENT_QUEUE: usize = 100_000;
/// At most this many messages in one PUBLISH…
const BATCH: usize = 4_096;
/// …and about this many bytes (a batch holds at least one message, whatever its size).
const BATCH_BYTES: usize = 512 * 1024;

/// The publisher's queue: one order for every message, with the text bounded apart from the events.
#[derive(Default)]
struct Queue {
    items: Mutex<Pending>,
    ready: Notify,
}

#[derive(Default)]
struct Pending {
    /// Each message with whether it is a durable event.
    messages: VecDeque<(String, bool)>,
    /// Durable events among `messages` (kept, not counted on every push).
    events: usize,
}

impl Queue {
    /// Queues `json`; false when it was dropped (the queue is full for its kind).
    fn push(&self, json: String, event: bool) -> bool {
        let mut p = self.items.lock().unwrap_or_else(|e| e.into_inner());
        let full = if event {
            p.events >= EVENT_QUEUE
        } else {
            p.messages.len() - p.events >= QUEUE
        };
        if full {
            return false;
        }
        p.messages.push_back((json, event));
        p.events += usize::from(event);
        drop(p);
        self.ready.notify_one();
        true
    }

    /// Up to [`BATCH`] messages and about [`BATCH_BYTES`], oldest first; waits while there are none.
    async fn take(&self) -> Vec<String> {
        loop {
            {
                let mut p = self.items.lock().unwrap_or_else(|e| e.into_inner());
                let (mut n, mut bytes) = (0, 0);
                while let Some((json, _)) = p.messages.get(n) {
                    if n == BATCH || (n > 0 && bytes + json.len() > BATCH_BYTES) {
                        break;
                    }
                    bytes += json.len();
                    n += 1;
                }
                if n > 0 {
                    let batch: Vec<(String, bool)> = p.messages.drain(..n).collect();
                    p.events -= batch.iter().filter(|(_, event)| *event).count();
                    return batch.into_iter().map(|(json, _)| json).collect();
                }
            }
            self.ready.notified().await;
        }
    }
}

pub struct RedisProgressSink {
    queue: Arc<Queue>,
}

impl RedisProgressSink {
    /// Starts the publishing task on the current arbiter (call inside the actix system).
    pub fn start(redis: Redis, node_id: &str, channel: &str) -> RedisProgressSink {
        let queue = Arc::new(Queue::default());
        let (channel, node_id) = (channel.to_string(), node_id.to_string());
        actix_web::rt::spawn(publish_loop(redis, channel, node_id, queue.clone()));
        RedisProgressSink { queue }
    }
}

impl ProgressSink for RedisProgressSink {
    fn publish(&self, message: &ProgressMessage) {
        let event = !matches!(
            message,
            ProgressMessage::Delta { .. } | ProgressMessage::Snapshot { .. }
        );
        if let ProgressMessage::Event {
            at, book_id, seq, ..
        } = message
        {
            crate::metrics::record_event_lag("published", *at, book_id, *seq);
        }
        match serde_json::to_string(message) {
            Ok(json) => {
                if !self.queue.push(json, event) {
                    let kind = if event { "event" } else { "text" };
                    metrics::counter!("buko_progress_publish_dropped_total", "kind" => kind)
                        .increment(1);
                    log::debug!(target: "buko::redis", "progress publish queue full; {kind} dropped");
                }
            }
            Err(e) => log::error!(target: "buko::redis", "cannot encode a progress message: {e}"),
        }
    }
}

/// One PUBLISH's payload: the sending node, a newline, the messages as a JSON array.
fn payload(node_id: &str, messages: &[String]) -> String {
    format!("{node_id}\n[{}]", messages.join(","))
}

/// The messages of a payload another node published; `None` for this node's own (not parsed).
fn read_payload(
    payload: &str,
    node_id: &str,
) -> Option<Result<Vec<ProgressMessage>, serde_json::Error>> {
    let (from, body) = payload.split_once('\n').unwrap_or(("", payload));
    (from != node_id).then(|| serde_json::from_str(body))
}

/// Publishes what the sink queued, whatever has accumulated since the last one as one PUBLISH; a
/// failed batch is retried (in order, before anything newer) until Redis takes it.
async fn publish_loop(redis: Redis, channel: String, node_id: String, queue: Arc<Queue>) {
    loop {
        // Shared by the attempts: a retry does not copy the batch again.
        let batch: Arc<str> = payload(&node_id, &queue.take().await).into();
        let mut backoff = Duration::from_millis(100);
        loop {
            let (ch, body) = (channel.clone(), batch.clone());
            let r = redis
                .with_conn("progress publish", move |c| {
                    async move {
                        redis::cmd("PUBLISH")
                            .arg(&ch)
                            .arg(&*body)
                            .query_async::<()>(c)
                            .await
                    }
                    .boxed()
                })
                .await;
            if r.is_ok() {
                break;
            }
            metrics::counter!("buko_progress_publish_retries_total").increment(1);
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(2));
        }
    }
}

/// The relay's handle; dropping it does not stop the relay, [`RelayHandle::stop`] does.
pub struct RelayHandle {
    task: actix_web::rt::task::JoinHandle<()>,
}

impl RelayHandle {
    pub fn stop(&self) {
        self.task.abort();
    }
}

/// Subscribes to `channel` and calls `deliver` with each message another node published. Runs on the
/// current arbiter until stopped; reconnects with backoff (0.2 s doubling to 5 s) when Redis goes away.
pub fn start_relay<F>(redis: Redis, node_id: &str, channel: &str, deliver: F) -> RelayHandle
where
    F: Fn(ProgressMessage) + 'static,
{
    let (node_id, channel) = (node_id.to_string(), channel.to_string());
    let task = actix_web::rt::spawn(async move {
        let mut backoff = Duration::from_millis(200);
        loop {
            match subscribe(&redis, &channel).await {
                Ok(mut pubsub) => {
                    backoff = Duration::from_millis(200);
                    let mut messages = pubsub.on_message();
                    while let Some(msg) = messages.next().await {
                        let Ok(payload) = msg.get_payload::<String>() else {
                            continue;
                        };
                        match read_payload(&payload, &node_id) {
                            Some(Ok(messages)) => {
                                for m in messages {
                                    if let ProgressMessage::Event {
                                        at, book_id, seq, ..
                                    } = &m
                                    {
                                        crate::metrics::record_event_lag(
                                            "relayed", *at, book_id, *seq,
                                        );
                                    }
                                    deliver(m);
                                }
                            }
                            None => {}
                            Some(Err(e)) => {
                                log::warn!(target: "buko::redis", "unreadable progress batch: {e}")
                            }
                        }
                    }
                    redis.mark_down("pub/sub connection closed", "progress relay");
                }
                Err(e) => {
                    redis.mark_down(&e.to_string(), "progress relay");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
    });
    RelayHandle { task }
}

async fn subscribe(redis: &Redis, channel: &str) -> Result<redis::aio::PubSub, BusError> {
    let connect = async {
        let mut pubsub = redis.client.get_async_pubsub().await?;
        pubsub.subscribe(channel).await?;
        Ok::<_, BusError>(pubsub)
    };
    let pubsub = tokio::time::timeout(super::redis::OP_TIMEOUT, connect)
        .await
        .map_err(|_| BusError::TimedOut(super::redis::OP_TIMEOUT))??;
    log::info!(target: "buko::redis", channel = channel; "progress relay subscribed");
    Ok(pubsub)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn a_full_queue_drops_text_never_events_and_keeps_the_order() {
        let q = Queue::default();
        for i in 0..QUEUE {
            assert!(q.push(format!("d{i}"), false));
        }
        assert!(!q.push("late text".into(), false), "text past the bound");
        assert!(q.push("e1".into(), true), "an event still goes in");
        let first = q.take().await;
        assert_eq!(first.len(), BATCH);
        assert_eq!(first[0], "d0");
        assert!(q.push("d-after".into(), false), "room again for text");
        let mut rest = Vec::new();
        while rest.len() < QUEUE - BATCH + 2 {
            rest.extend(q.take().await);
        }
        assert_eq!(rest[QUEUE - BATCH - 1], format!("d{}", QUEUE - 1));
        assert_eq!(rest[QUEUE - BATCH], "e1");
        assert_eq!(rest[QUEUE - BATCH + 1], "d-after");
        assert_eq!(q.items.lock().expect("queue lock").events, 0);
    }

    #[actix_web::test]
    async fn a_batch_is_bounded_in_bytes_but_holds_at_least_one_message() {
        let q = Queue::default();
        let big = "x".repeat(BATCH_BYTES / 3);
        for _ in 0..4 {
            assert!(q.push(big.clone(), false));
        }
        assert_eq!(
            q.take().await.len(),
            3,
            "three fit, the fourth would pass the bound"
        );
        assert!(q.push("y".repeat(BATCH_BYTES * 2), true));
        assert_eq!(q.take().await.len(), 1, "the one left");
        assert_eq!(q.take().await.len(), 1, "an oversized message goes alone");
    }

    #[test]
    fn a_batch_reaches_other_nodes_in_order_and_its_own_node_skips_it() {
        let messages = [
            ProgressMessage::Delta {
                book_id: "b1".into(),
                chunk_seq: 3,
                offset: 0,
                text: "Once, \"quoted\"\nand on".into(),
            },
            ProgressMessage::Delta {
                book_id: "b1".into(),
                chunk_seq: 3,
                offset: 24,
                text: " — más".into(),
            },
        ];
        let json: Vec<String> = messages
            .iter()
            .map(|m| serde_json::to_string(m).expect("a message encodes"))
            .collect();
        let body = payload("node-a", &json);
        assert!(read_payload(&body, "node-a").is_none(), "own batch skipped");
        let got = read_payload(&body, "node-b")
            .expect("another node's batch is read")
            .expect("it parses");
        let again: Vec<String> = got
            .iter()
            .map(|m| serde_json::to_string(m).expect("a message encodes"))
            .collect();
        assert_eq!(again, json);
        assert!(read_payload("node-a\n[{", "node-b")
            .expect("another node's batch is read")
            .is_err());
    }
}
