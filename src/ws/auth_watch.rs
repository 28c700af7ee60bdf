//! Keeps this node's WebSocket sessions honest about the credential they were opened with: a socket
//! opened with a session cookie closes when that session ends (logout, "log out everywhere", a
//! disabled user), and one opened with an API key closes when the key is revoked or its owner
//! disabled — on whichever node the change was made. A session ended on this node closes its sockets
//! at once.
//!
//! Every [`POLL`] the watch reads the credential epoch (`repo::credential_epoch`, moved in the same
//! transaction as every change that ends a credential). Only when it moved does it ask which of the
//! node's credentials still hold; otherwise it asks only about credentials it has not seen yet (a
//! socket authenticated just before a revocation but registered after the check that followed it).
//! At 10,000 sockets the old way — every credential every 2 s — was 40 % of PostgreSQL's execution
//! time; now a quiet poll is one single-row read. A full check every [`FULL_EVERY`] backs it up.
//!
//! Sessions add themselves on `started` and remove themselves on `stopping`, so no address outlives
//! its socket here.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use actix_web::web;

use crate::db::{self, repo};
use crate::state::AppState;

/// How often the epoch is read (a revoked key's sockets close within this plus two queries).
pub const POLL: Duration = Duration::from_millis(500);
/// Every credential is re-checked at least this often, whatever the epoch says.
pub const FULL_EVERY: Duration = Duration::from_secs(60);
/// Ids per query (SQLite bounds the number of bound parameters).
const BATCH: usize = 500;

pub use super::credentials::{AuthWatch, Credential, KEY_REVOKED, SESSION_ENDED};

/// What the watch knows between polls: the epoch it last read, and the credentials known to hold at
/// that epoch.
#[derive(Default)]
pub struct Watch {
    epoch: Option<i64>,
    held: HashSet<Credential>,
    last_full: Option<Instant>,
}

impl Watch {
    /// Every credential must be asked about: the epoch moved, nothing was asked yet, or a full check
    /// is due.
    fn full_check_due(&self, epoch: i64, now: Instant) -> bool {
        self.epoch != Some(epoch)
            || self
                .last_full
                .is_none_or(|t| now.duration_since(t) >= FULL_EVERY)
    }

    /// Which of `current` must be asked about, given the epoch just read: all of them when the epoch
    /// moved (or on the first poll, or when a full check is due), else only those not known to hold.
    pub fn to_check(
        &self,
        epoch: i64,
        current: &HashSet<Credential>,
        now: Instant,
    ) -> HashSet<Credential> {
        if self.full_check_due(epoch, now) {
            current.clone()
        } else {
            current.difference(&self.held).cloned().collect()
        }
    }

    /// Records a poll's answer: `checked` were asked about at `epoch`, `live` of them still hold.
    pub fn checked(
        &mut self,
        epoch: i64,
        checked: &HashSet<Credential>,
        live: &HashSet<Credential>,
        current: &HashSet<Credential>,
        now: Instant,
    ) {
        if self.full_check_due(epoch, now) {
            self.held.clear();
            self.last_full = Some(now);
        }
        // Known to hold at this epoch: what was held and is still registered, plus what just checked out.
        self.held.retain(|c| current.contains(c));
        self.held
            .extend(checked.iter().filter(|c| live.contains(*c)).cloned());
        self.epoch = Some(epoch);
    }
}

/// The node's watch loop (started by `Application::build`).
pub async fn run(state: web::Data<AppState>) {
    let mut watch = Watch::default();
    loop {
        actix_web::rt::time::sleep(POLL).await;
        if let Err(e) = check_once(&state, &mut watch).await {
            log::warn!(target: "buko::ws", "credential check failed: {e}");
        }
    }
}

/// Closes the sockets whose credential no longer holds; returns how many.
pub async fn check_once(state: &AppState, watch: &mut Watch) -> Result<usize, crate::db::DbError> {
    let current = state.ws_auth.credentials();
    if current.is_empty() {
        *watch = Watch::default();
        return Ok(0);
    }
    let epoch = db::run(&state.db, repo::credential_epoch::current).await?;
    let now = Instant::now();
    // Only what was asked about can be found gone: a socket opened while the query ran has a
    // credential the answer does not cover (closing it would read a fresh key as revoked). The epoch
    // is read before the credentials are asked about, so a change after it shows at the next poll.
    let checked = watch.to_check(epoch, &current, now);
    if checked.is_empty() {
        watch.checked(epoch, &checked, &HashSet::new(), &current, now);
        return Ok(0);
    }
    let (mut sessions, mut keys) = (Vec::new(), Vec::new());
    for c in &checked {
        match c {
            Credential::Session(id) => sessions.push(id.clone()),
            Credential::ApiKey(id) => keys.push(id.clone()),
        }
    }
    let live = db::run(&state.db, move |c| {
        let mut live = HashSet::new();
        for chunk in sessions.chunks(BATCH) {
            let found = repo::sessions::existing(c, chunk)?;
            live.extend(found.into_iter().map(Credential::Session));
        }
        for chunk in keys.chunks(BATCH) {
            let found = repo::api_keys::active_ids(c, chunk)?;
            live.extend(found.into_iter().map(Credential::ApiKey));
        }
        Ok(live)
    })
    .await?;
    watch.checked(epoch, &checked, &live, &current, now);
    let closed = state
        .ws_auth
        .close_where(|c| checked.contains(c) && !live.contains(c));
    if closed > 0 {
        log::info!(target: "buko::ws", sockets = closed; "sockets closed: credential gone");
    }
    Ok(closed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(ids: &[&str]) -> HashSet<Credential> {
        ids.iter()
            .map(|i| Credential::ApiKey(i.to_string()))
            .collect()
    }

    #[test]
    fn a_quiet_epoch_asks_only_about_new_credentials() {
        let mut w = Watch::default();
        let t0 = Instant::now();
        let current = set(&["a", "b"]);
        // First poll: everything.
        let ask = w.to_check(7, &current, t0);
        assert_eq!(ask, current);
        w.checked(7, &ask, &current, &current, t0);
        // Same epoch, same sockets: nothing to ask.
        let t1 = t0 + POLL;
        assert!(w.to_check(7, &current, t1).is_empty());
        w.checked(7, &HashSet::new(), &HashSet::new(), &current, t1);
        // A new socket: only its credential.
        let more = set(&["a", "b", "c"]);
        let ask = w.to_check(7, &more, t1 + POLL);
        assert_eq!(ask, set(&["c"]));
        w.checked(7, &ask, &ask, &more, t1 + POLL);
        assert!(w.to_check(7, &more, t1 + 2 * POLL).is_empty());
        // The epoch moved: everything again.
        assert_eq!(w.to_check(8, &more, t1 + 3 * POLL), more);
    }

    #[test]
    fn a_credential_found_gone_is_asked_again_and_a_full_check_comes_in_time() {
        let mut w = Watch::default();
        let t0 = Instant::now();
        let current = set(&["a", "b"]);
        let ask = w.to_check(1, &current, t0);
        // "b" did not hold (its socket is being closed): not known to hold, so asked again if it stays.
        w.checked(1, &ask, &set(&["a"]), &current, t0);
        assert_eq!(w.to_check(1, &current, t0 + POLL), set(&["b"]));
        // A socket that went away is forgotten.
        let fewer = set(&["b"]);
        w.checked(1, &set(&["b"]), &set(&["b"]), &fewer, t0 + POLL);
        assert_eq!(w.to_check(1, &set(&["a", "b"]), t0 + 2 * POLL), set(&["a"]));
        // However quiet the epoch, every credential is asked about once per FULL_EVERY.
        assert_eq!(w.to_check(1, &fewer, t0 + FULL_EVERY), fewer);
    }
}
