//! Operator commands that must reach every node: today "disconnect this user's WebSocket sessions".
//!
//! WebSocket sessions live in each node's `SessionRegistry`, so a command is applied locally at once
//! and, with `REDIS_URL`, also published on the Redis channel [`CHANNEL`] as JSON
//! `{"action":"disconnect","user_id":…,"origin":node}`. Every node runs [`listen`], which applies the
//! commands of *other* origins to its own registry. Progress messages stay on the progress bus; this is
//! a separate channel because a command is not something a browser should ever receive.
//! Delivery is best effort (Redis pub/sub): a node that is reconnecting misses the command — a
//! disconnect that must stick is paired with revoking the user's sessions (`session_version`), which
//! every node checks on the next request and WebSocket upgrade.

use std::time::Duration;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use crate::state::AppState;

pub const CHANNEL: &str = "buko:admin:control";

#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Command {
    Disconnect { user_id: String, origin: String },
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
        match serde_json::to_string(&command) {
            Ok(json) => {
                let sent = async {
                    let mut conn = redis.pool.get().await.map_err(|e| e.to_string())?;
                    redis::cmd("PUBLISH")
                        .arg(CHANNEL)
                        .arg(json)
                        .query_async::<i64>(&mut *conn)
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
    closed
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

async fn listen_once(state: &AppState, url: &str) -> Result<(), String> {
    // SUBSCRIBE needs its own connection (not the pool's).
    let client = redis::Client::open(url).map_err(|e| e.to_string())?;
    let mut pubsub = client.get_async_pubsub().await.map_err(|e| e.to_string())?;
    pubsub.subscribe(CHANNEL).await.map_err(|e| e.to_string())?;
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
            Ok(_) => {}
            Err(e) => log::warn!(target: "buko::admin", "unknown control command: {e}"),
        }
    }
    Err("subscription ended".into())
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
    }
}
