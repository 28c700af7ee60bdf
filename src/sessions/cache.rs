//! This node's short-lived memory of recent session look-ups, so a page that loads several resources
//! costs one database query per session per TTL, not one per request. The TTL bounds how long a
//! session deleted on another node can still be honoured here; a session ended on this node is
//! forgotten at once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::db::models::User;

/// Below one second: a session deleted anywhere is refused everywhere within a second.
pub const TTL: Duration = Duration::from_millis(800);
/// Entries kept at most (expired ones are swept first, then the map is cleared).
const CAPACITY: usize = 20_000;

#[derive(Default)]
pub struct SessionCache {
    entries: Mutex<HashMap<String, (Instant, Option<User>)>>,
}

impl SessionCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// `Some(answer)` when the session was looked up less than [`TTL`] ago (`answer` is `None` for a
    /// session that does not exist).
    pub fn get(&self, session_id: &str) -> Option<Option<User>> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(session_id)
            .filter(|(at, _)| at.elapsed() < TTL)
            .map(|(_, user)| user.clone())
    }

    pub fn put(&self, session_id: &str, user: Option<User>) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= CAPACITY {
            entries.retain(|_, (at, _)| at.elapsed() < TTL);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(session_id.to_string(), (Instant::now(), user));
    }

    pub fn forget(&self, session_id: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.remove(session_id);
    }

    pub fn forget_user(&self, user_id: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.retain(|_, (_, u)| u.as_ref().is_none_or(|u| u.id != user_id));
    }
}
