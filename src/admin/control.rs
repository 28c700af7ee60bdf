//! Commands that must reach every node: "disconnect this user's WebSocket sessions" (an operator's)
//! and "stop writing this book" (an author's pause or cancel, [`EngineControl`]).
//!
//! WebSocket sessions live in each node's `SessionRegistry`, so a command is applied locally at once
//! and, with `REDIS_URL`, also published on the Redis channel [`CHANNEL`] as JSON
//! `{"action":"disconnect","user_id":…,"origin":node}`. Every node runs [`listen`], which applies the
//! commands of *other* origins to its own registry. Progress messages stay on the progress bus; this is
//! a separate channel because a command is not something a browser should ever receive.
//! Delivery is best effort (Redis pub/sub): a node that is reconnecting misses the command — a
//! disconnect that must stick is paired with ending the user's sessions (`sessions::end_all`), which
//! every node checks on the next request, WebSocket upgrade and credential re-check (`ws::auth_watch`).

use std::time::Duration;

use actix::Addr;
use buko_actors::{GenerationSupervisor, ProgressBroadcaster, ProgressMessage, Publish, StopBook};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use crate::books::{EngineSignal, Stop};
use crate::bus::redis::{BusError, Redis};
use crate::db::repo::events::EventRow;
use crate::state::AppState;

pub const CHANNEL: &str = "buko:admin:control";

#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Command {
    Disconnect {
        user_id: String,
        origin: String,
    },
    /// `stop` is `pause` or `cancel`; the node writing the book stops its stream at once.
    StopBook {
        book_id: String,
        stop: String,
        origin: String,
    },
}

const REASON: &str = "disconnected by an administrator";

/// Closes the user's sessions on this node and asks the other nodes to do the same; returns how many
/// sessions were closed here.
pub async fn disconnect_user(state: &AppState, user_id: &str) -> usize {
    let closed = state.ws_registry.disconnect_user(user_id, REASON);
    if let Some(redis) = &state.redis {
        let command = Command::Disconnect {
            user_id: user_id.to_string(),
            origin: state.admin.node.clone(),
        };
        publish(redis, &command).await;
    }
    closed
}

async fn publish(redis: &Redis, command: &Command) {
    match serde_json::to_string(command) {
        Ok(json) => {
            let sent = async {
                let mut conn = redis.connection().await.map_err(|e| e.to_string())?;
                redis::cmd("PUBLISH")
                    .arg(CHANNEL)
                    .arg(json)
                    .query_async::<i64>(&mut conn)
                    .await
                    .map_err(|e| e.to_string())
            };
            if let Err(e) = sent.await {
                log::warn!(target: "buko::admin", "control command not published: {e}");
            }
        }
        Err(e) => log::error!(target: "buko::admin", "cannot encode a control command: {e}"),
    }
}

/// The engine side of the author's controls ([`EngineSignal`]): `StopBook` to this node's supervisor
/// (a no-op when the book runs elsewhere) and the same command on the channel for the other nodes;
/// events written by a use case go out through this node's broadcaster (and so the progress bus).
pub struct EngineControl {
    pub supervisor: Addr<GenerationSupervisor>,
    pub broadcaster: Addr<ProgressBroadcaster>,
    pub redis: Option<Redis>,
    pub node: String,
}

impl EngineSignal for EngineControl {
    fn stop(&self, book_id: &str, stop: Stop) -> LocalBoxFuture<'static, ()> {
        let (supervisor, redis) = (self.supervisor.clone(), self.redis.clone());
        let command = Command::StopBook {
            book_id: book_id.to_string(),
            stop: stop.as_str().to_string(),
            origin: self.node.clone(),
        };
        let book_id = book_id.to_string();
        Box::pin(async move {
            supervisor.do_send(StopBook {
                book_id,
                control: stop.engine_control(),
            });
            if let Some(redis) = &redis {
                publish(redis, &command).await;
            }
        })
    }

    fn publish(&self, event: EventRow) {
        self.broadcaster
            .do_send(Publish(ProgressMessage::from_event(event.to_book_event())));
    }
}

/// Applies other nodes' commands to this node, reconnecting to Redis after a failure.
pub async fn listen(state: actix_web::web::Data<AppState>, redis_url: String) {
    loop {
        if let Err(e) = listen_once(&state, &redis_url).await {
            log::warn!(target: "buko::admin", "control channel: {e}; reconnecting");
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

async fn listen_once(state: &AppState, url: &str) -> Result<(), BusError> {
    // SUBSCRIBE needs its own connection (not the pool's).
    let client = redis::Client::open(url).map_err(|e| BusError::Url(e.to_string()))?;
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(CHANNEL).await?;
    let mut messages = pubsub.on_message();
    while let Some(msg) = messages.next().await {
        let Ok(payload) = msg.get_payload::<String>() else {
            continue;
        };
        match serde_json::from_str::<Command>(&payload) {
            Ok(Command::Disconnect { user_id, origin }) if origin != state.admin.node => {
                let n = state.ws_registry.disconnect_user(&user_id, REASON);
                log::info!(target: "buko::admin", sessions = n; "disconnect from another node applied");
            }
            Ok(Command::StopBook {
                book_id,
                stop,
                origin,
            }) if origin != state.admin.node => {
                if let Some(stop) = Stop::parse(&stop) {
                    state.runner.engine.supervisor.do_send(StopBook {
                        book_id,
                        control: stop.engine_control(),
                    });
                }
            }
            Ok(_) => {}
            Err(e) => log::warn!(target: "buko::admin", "unknown control command: {e}"),
        }
    }
    Err(BusError::SubscriptionEnded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_wire_format() {
        let c = Command::Disconnect {
            user_id: "u1".into(),
            origin: "n1".into(),
        };
        let json = serde_json::to_string(&c).unwrap_or_default();
        assert_eq!(
            json,
            r#"{"action":"disconnect","user_id":"u1","origin":"n1"}"#
        );
        assert_eq!(serde_json::from_str::<Command>(&json).ok(), Some(c));
        let stop = Command::StopBook {
            book_id: "b1".into(),
            stop: "pause".into(),
            origin: "n1".into(),
        };
        let json = serde_json::to_string(&stop).unwrap_or_default();
        assert_eq!(
            json,
            r#"{"action":"stop_book","book_id":"b1","stop":"pause","origin":"n1"}"#
        );
    }
}
