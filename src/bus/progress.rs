//! Progress across nodes. [`RedisProgressSink`] is the engine's `ProgressSink`: the broadcaster hands it
//! every locally-originated message, which is published on one Redis channel tagged with this node's
//! id. [`start_relay`] subscribes on a dedicated pub/sub connection (the shared connection cannot
//! SUBSCRIBE) and hands other nodes' messages to a callback — in the app,
//! `move |m| broadcaster.do_send(Relay(m))` — ignoring this node's own. Both reconnect with backoff.
//!
//! Publishing never drops what it holds because Redis was slow: a batch that failed is kept and sent
//! again with backoff (0.1 s doubling to 2 s) while new messages queue behind it, up to [`QUEUE`]; only
//! past that bound is a burst dropped. A retried batch may arrive twice: events are deduplicated by seq
//! and deltas by offset, at the broadcaster and in the sessions. What is lost anyway (the bound, a
//! pub/sub reconnect) is repaired downstream: a session refills missing events from the database and asks
//! for a snapshot when a delta does not fit.

use std::time::Duration;

use buko_actors::progress::ProgressMessage;
use buko_actors::ProgressSink;
use futures_util::{FutureExt, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::redis::{BusError, Redis};

pub const CHANNEL: &str = "buko:progress";
/// Messages waiting to be published; past this a burst is dropped rather than grow memory.
const QUEUE: usize = 10_000;

#[derive(Serialize, Deserialize)]
struct Envelope<N, M> {
    node: N,
    message: M,
}

pub struct RedisProgressSink {
    node_id: String,
    tx: mpsc::Sender<String>,
}

impl RedisProgressSink {
    /// Starts the publishing task on the current arbiter (call inside the actix system).
    pub fn start(redis: Redis, node_id: &str, channel: &str) -> RedisProgressSink {
        let (tx, rx) = mpsc::channel(QUEUE);
        actix_web::rt::spawn(publish_loop(redis, channel.to_string(), rx));
        RedisProgressSink {
            node_id: node_id.to_string(),
            tx,
        }
    }
}

impl ProgressSink for RedisProgressSink {
    fn publish(&self, message: &ProgressMessage) {
        let envelope = Envelope {
            node: self.node_id.as_str(),
            message,
        };
        match serde_json::to_string(&envelope) {
            Ok(json) => {
                if self.tx.try_send(json).is_err() {
                    log::debug!(target: "buko::redis", "progress publish queue full; message dropped");
                }
            }
            Err(e) => log::error!(target: "buko::redis", "cannot encode a progress message: {e}"),
        }
    }
}

/// Publishes what the sink queued, pipelining whatever has accumulated into one round trip; a failed
/// batch is retried (in order, before anything newer) until Redis takes it.
async fn publish_loop(redis: Redis, channel: String, mut rx: mpsc::Receiver<String>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < 256 {
            match rx.try_recv() {
                Ok(m) => batch.push(m),
                Err(_) => break,
            }
        }
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
