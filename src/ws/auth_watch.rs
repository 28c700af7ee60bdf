//! Keeps this node's WebSocket sessions honest about the credential they were opened with: a socket
//! opened with a session cookie closes when that session ends (logout, "log out everywhere", a
//! disabled user), and one opened with an API key closes when the key is revoked or its owner
//! disabled — on whichever node the change was made. Every [`INTERVAL`] one query per kind asks which
//! of the node's credentials still hold; sockets whose credential is gone are closed with the reason.
//! A session ended on this node closes its sockets at once.
//!
//! Sessions add themselves on `started` and remove themselves on `stopping`, so no address outlives
//! its socket here.

use std::collections::HashSet;
use std::time::Duration;

use actix_web::web;

use crate::db::{self, repo};
use crate::state::AppState;

/// How often credentials are re-checked (a revoked key's sockets close within this plus a query).
pub const INTERVAL: Duration = Duration::from_secs(2);
/// Ids per query (SQLite bounds the number of bound parameters).
const BATCH: usize = 500;

pub use super::credentials::{AuthWatch, Credential, KEY_REVOKED, SESSION_ENDED};

/// The node's watch loop (started by `Application::build`).
pub async fn run(state: web::Data<AppState>) {
    loop {
        actix_web::rt::time::sleep(INTERVAL).await;
        if let Err(e) = check_once(&state).await {
            log::warn!(target: "buko::ws", "credential check failed: {e}");
        }
    }
}

/// Closes the sockets whose credential no longer holds; returns how many.
pub async fn check_once(state: &AppState) -> Result<usize, crate::db::DbError> {
    let credentials = state.ws_auth.credentials();
    if credentials.is_empty() {
        return Ok(0);
    }
    // Only what was asked about can be found gone: a socket opened while the query ran has a
    // credential the answer does not cover (closing it would read a fresh key as revoked).
    let checked = credentials.clone();
    let (mut sessions, mut keys) = (Vec::new(), Vec::new());
    for c in credentials {
        match c {
            Credential::Session(id) => sessions.push(id),
            Credential::ApiKey(id) => keys.push(id),
        }
    }
    let (live_sessions, live_keys) = db::run(&state.db, move |c| {
        let mut s = HashSet::new();
        for chunk in sessions.chunks(BATCH) {
            s.extend(repo::sessions::existing(c, chunk)?);
        }
        let mut k = HashSet::new();
        for chunk in keys.chunks(BATCH) {
            k.extend(repo::api_keys::active_ids(c, chunk)?);
        }
        Ok((s, k))
    })
    .await?;
    let closed = state.ws_auth.close_where(|c| {
        checked.contains(c)
            && match c {
                Credential::Session(id) => !live_sessions.contains(id),
                Credential::ApiKey(id) => !live_keys.contains(id),
            }
    });
    if closed > 0 {
        log::info!(target: "buko::ws", sockets = closed; "sockets closed: credential gone");
    }
    Ok(closed)
}
