//! What each of this node's WebSocket sockets was opened with (a session or an API key), so
//! `auth_watch` can close the sockets whose credential ended. Apart from the watch loop so the node's
//! state can hold it without importing the loop.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use actix::Recipient;

use super::registry::Disconnect;

pub const SESSION_ENDED: &str = "session ended";
pub const KEY_REVOKED: &str = "API key revoked";

/// What a socket was authenticated with.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Credential {
    /// A browser session (`sessions` row id).
    Session(String),
    /// An API key (`api_keys` row id).
    ApiKey(String),
}

#[derive(Default)]
pub struct AuthWatch {
    sockets: Mutex<HashMap<u64, (Credential, Recipient<Disconnect>)>>,
}

impl AuthWatch {
    pub fn add(&self, socket: u64, credential: Credential, addr: Recipient<Disconnect>) {
        let mut s = self.sockets.lock().unwrap_or_else(|p| p.into_inner());
        s.insert(socket, (credential, addr));
    }

    pub fn remove(&self, socket: u64) {
        let mut s = self.sockets.lock().unwrap_or_else(|p| p.into_inner());
        s.remove(&socket);
    }

    /// Closes this node's sockets of a session that just ended here.
    pub fn session_ended(&self, session_id: &str) {
        let gone = Credential::Session(session_id.to_string());
        self.close_where(|c| *c == gone);
    }

    pub(crate) fn credentials(&self) -> HashSet<Credential> {
        let s = self.sockets.lock().unwrap_or_else(|p| p.into_inner());
        s.values().map(|(c, _)| c.clone()).collect()
    }

    pub(crate) fn close_where(&self, gone: impl Fn(&Credential) -> bool) -> usize {
        let doomed: Vec<(Credential, Recipient<Disconnect>)> = {
            let s = self.sockets.lock().unwrap_or_else(|p| p.into_inner());
            s.values().filter(|(c, _)| gone(c)).cloned().collect()
        };
        for (credential, addr) in &doomed {
            let reason = match credential {
                Credential::Session(_) => SESSION_ENDED,
                Credential::ApiKey(_) => KEY_REVOKED,
            };
            addr.do_send(Disconnect {
                reason: reason.to_string(),
                restart: false,
            });
        }
        doomed.len()
    }
}
