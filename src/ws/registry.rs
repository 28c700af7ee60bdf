//! This node's live WebSocket sessions by user, so an operator can count them, broadcast to them or
//! disconnect one user's sessions. Sessions add themselves on `started` and remove themselves on
//! `stopping`; nothing else holds their addresses, so a gone session is never kept here.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use actix::{Message, Recipient};

/// Asks a session to close (an operator disconnecting a user, a revoked account). The registry holds
/// sessions as recipients of this message only, so it never depends on the session type.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Disconnect {
    pub reason: String,
}

#[derive(Default)]
pub struct SessionRegistry {
    next_id: AtomicU64,
    users: Mutex<HashMap<String, HashMap<u64, Recipient<Disconnect>>>>,
}

impl SessionRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub fn add(&self, user_id: &str, session_id: u64, addr: Recipient<Disconnect>) {
        let mut users = self.users.lock().unwrap_or_else(|p| p.into_inner());
        users
            .entry(user_id.to_string())
            .or_default()
            .insert(session_id, addr);
    }

    pub fn remove(&self, user_id: &str, session_id: u64) {
        let mut users = self.users.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(sessions) = users.get_mut(user_id) {
            sessions.remove(&session_id);
            if sessions.is_empty() {
                users.remove(user_id);
            }
        }
    }

    /// (connections, distinct users) on this node.
    pub fn counts(&self) -> (usize, usize) {
        let users = self.users.lock().unwrap_or_else(|p| p.into_inner());
        (users.values().map(HashMap::len).sum(), users.len())
    }

    pub fn sessions_of(&self, user_id: &str) -> usize {
        let users = self.users.lock().unwrap_or_else(|p| p.into_inner());
        users.get(user_id).map_or(0, HashMap::len)
    }

    /// Closes every session of the user on this node with the reason; returns how many.
    pub fn disconnect_user(&self, user_id: &str, reason: &str) -> usize {
        let addrs: Vec<Recipient<Disconnect>> = {
            let users = self.users.lock().unwrap_or_else(|p| p.into_inner());
            users
                .get(user_id)
                .map(|s| s.values().cloned().collect())
                .unwrap_or_default()
        };
        for a in &addrs {
            a.do_send(Disconnect {
                reason: reason.to_string(),
            });
        }
        addrs.len()
    }
}
