//! Sign-in sessions, the use case behind login, logout, "log out everywhere", disabling a user and the
//! settings page's list of devices. Each sign-in is a row in `sessions` (user, created, last seen, user
//! agent, IP); the encrypted cookie carries only the row's id. Ending a session deletes the row, so the
//! cookie stops working on every node (within [`cache::TTL`]) and the node's WebSocket watch closes
//! the sockets opened with it. This module owns no HTTP: doors pass the user agent and address.

pub mod cache;
pub mod sign_in;

use chrono::Duration;

use crate::db::models::{SessionRow, User};
use crate::db::{self, repo};
use crate::error::AppError;
use crate::state::AppState;

pub use cache::SessionCache;

/// A session unused for this long has ended (the cookie's own lifetime is the same).
pub const IDLE_DAYS: i64 = 14;
/// `last_seen_at` is refreshed at most this often (it is a write).
const SEEN_RESOLUTION_SECS: i64 = 60;
/// Longest user agent kept.
const MAX_USER_AGENT: usize = 255;

fn idle_since() -> chrono::NaiveDateTime {
    db::now() - Duration::days(IDLE_DAYS)
}

/// Starts a session for the user; returns its id for the cookie.
pub async fn start(
    state: &AppState,
    user_id: &str,
    user_agent: &str,
    ip: &str,
) -> Result<String, AppError> {
    let ua: String = user_agent
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_USER_AGENT)
        .collect();
    let (uid, ip) = (user_id.to_string(), ip.to_string());
    let row = db::run(&state.db, move |c| {
        // Housekeeping here, where sessions are made: idle rows would otherwise accumulate.
        repo::sessions::delete_idle(c, idle_since())?;
        repo::sessions::create(c, &uid, &ua, &ip)
    })
    .await?;
    Ok(row.id)
}

/// The active user of a session id, if the session exists and its user is not disabled.
pub async fn user_of(state: &AppState, session_id: &str) -> Result<Option<User>, AppError> {
    if uuid::Uuid::parse_str(session_id).is_err() {
        return Ok(None);
    }
    if let Some(hit) = state.sessions.get(session_id) {
        return Ok(hit);
    }
    let sid = session_id.to_string();
    let found = db::run(&state.db, move |c| {
        let found = repo::sessions::find_active(c, &sid, idle_since())?;
        if let Some((row, _)) = &found {
            if row.last_seen_at < db::now() - Duration::seconds(SEEN_RESOLUTION_SECS) {
                repo::sessions::touch(c, &row.id)?;
            }
        }
        Ok(found)
    })
    .await?;
    let user = found.map(|(_, u)| u).filter(|u| !u.disabled);
    state.sessions.put(session_id, user.clone());
    Ok(user)
}

/// Ends one session (logout, or the settings page's "end"); with `owner`, only that user's.
/// Returns whether it existed.
pub async fn end(
    state: &AppState,
    session_id: &str,
    owner: Option<&str>,
) -> Result<bool, AppError> {
    if uuid::Uuid::parse_str(session_id).is_err() {
        return Ok(false);
    }
    let (sid, owner) = (session_id.to_string(), owner.map(str::to_string));
    let ended = db::run(&state.db, move |c| {
        repo::sessions::delete(c, &sid, owner.as_deref())
    })
    .await?;
    state.sessions.forget(session_id);
    if ended {
        state.ws_auth.session_ended(session_id);
    }
    Ok(ended)
}

/// Ends every session of the user ("log out everywhere", disabling the user) and closes their
/// WebSocket sessions on every node.
pub async fn end_all(state: &AppState, user_id: &str) -> Result<usize, AppError> {
    let uid = user_id.to_string();
    let n = db::run(&state.db, move |c| {
        let n = repo::sessions::delete_all_for_user(c, &uid)?;
        // Cookies of the former scheme carried this version; moving it keeps them refused too.
        repo::users::revoke_sessions(c, &uid)?;
        Ok(n)
    })
    .await?;
    state.sessions.forget_user(user_id);
    crate::admin::control::disconnect_user(state, user_id).await;
    Ok(n)
}

/// The user's sessions, most recently seen first.
pub async fn list(state: &AppState, user_id: &str) -> Result<Vec<SessionRow>, AppError> {
    let uid = user_id.to_string();
    Ok(db::run(&state.db, move |c| repo::sessions::list_for_user(c, &uid)).await?)
}
