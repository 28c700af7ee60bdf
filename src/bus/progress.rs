//! Progress across nodes. [`RedisProgressSink`] is the engine's `ProgressSink`: the broadcaster hands it
//! every locally-originated message, which is published on one Redis channel tagged with this node's
//! id. [`start_relay`] subscribes on a dedicated pub/sub connection (the shared connection cannot
//! SUBSCRIBE) and hands other nodes' messages to a callback — in the app,
//! `move |m| broadcaster.do_send(Relay(m))` — ignoring this node's own. Both reconnect with backoff.
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
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use super::redis::{BusError, Redis};

pub const CHANNEL: &str = "buko:progress";
/// Messages waiting to be published; past this a new text delta is dropped rather than grow memory.
const QUEUE: usize = 10_000;
/// Durable events waiting to be published; only past this (a Redis outage of many minutes) is one
/// dropped (the other nodes' sessions still refill it from the database).
const EVENT_QUEUE: usize = 100_000;
/// Messages sent in one pipelined round trip.
const BATCH: usize = 256;

#[derive(Serialize, Deserialize)]
struct Envelope<N, M> {
    node: N,
    message: M,
}

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

    /// Up to [`BATCH`] messages, oldest first; waits while there are none.
    async fn take(&self) -> Vec<String> {
        loop {
            {
                let mut p = self.items.lock().unwrap_or_else(|e| e.into_inner());
                let n = p.messages.len().min(BATCH);
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
    node_id: String,
    queue: Arc<Queue>,
}

impl RedisProgressSink {
    /// Starts the publishing task on the current arbiter (call inside the actix system).
    pub fn start(redis: Redis, node_id: &str, channel: &str) -> RedisProgressSink {
        let queue = Arc::new(Queue::default());
        actix_web::rt::spawn(publish_loop(redis, channel.to_string(), queue.clone()));
        RedisProgressSink {
            node_id: node_id.to_string(),
            queue,
        }
    }
}

impl ProgressSink for RedisProgressSink {
    fn publish(&self, message: &ProgressMessage) {
        let event = !matches!(
            message,
            ProgressMessage::Delta { .. } | ProgressMessage::Snapshot { .. }
        );
        let envelope = Envelope {
            node: self.node_id.as_str(),
            message,
        };
        match serde_json::to_string(&envelope) {
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

/// Publishes what the sink queued, pipelining whatever has accumulated into one round trip; a failed
/// batch is retried (in order, before anything newer) until Redis takes it.
async fn publish_loop(redis: Redis, channel: String, queue: Arc<Queue>) {
    loop {
        let batch = queue.take().await;
        let mut backoff = Duration::from_millis(100);
        loop {
            let (ch, msgs) = (channel.clone(), batch.clone());
            let r = redis
                .with_conn("progress publish", move |c| {
                    async move {
                        let mut pipe = redis::pipe();
                        for m in msgs {
                            pipe.publish(&ch, m).ignore();
                        }
                        pipe.query_async::<()>(c).await
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
                        match serde_json::from_str::<Envelope<String, ProgressMessage>>(&payload) {
                            Ok(e) if e.node != node_id => deliver(e.message),
                            Ok(_) => {}
                            Err(e) => {
                                log::warn!(target: "buko::redis", "unreadable progress message: {e}")
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
        assert_eq!(q.items.lock().unwrap().events, 0);
    }
}
