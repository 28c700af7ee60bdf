//! Wake-ups for idle workers. PostgreSQL: a dedicated connection on its own thread LISTENs on the jobs
//! channel (enqueue sends `pg_notify` in the enqueuing transaction) and wakes every idle slot of the
//! node. SQLite has no cross-process notification; its slots poll (and a local enqueue can call
//! [`Wakeup::wake`]). Diesel is blocking, so the listener never runs on the reactor.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use tokio::sync::Notify;

use super::NOTIFY_CHANNEL;
use crate::db::Backend;

/// Idle slots wait on this; a notification (or a local enqueue) wakes them all to claim.
#[derive(Clone, Default)]
pub struct Wakeup {
    notify: Arc<Notify>,
    stop: Arc<AtomicBool>,
}

impl Wakeup {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn wake(&self) {
        self.notify.notify_waiters();
    }

    pub fn notified(&self) -> tokio::sync::futures::Notified<'_> {
        self.notify.notified()
    }

    /// Ends the listener thread (if any) within its polling period.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// Starts the LISTEN thread when the database is PostgreSQL; a no-op on SQLite.
    pub fn listen(&self, database_url: &str) {
        if Backend::from_url(database_url) != Backend::Postgres {
            return;
        }
        let url = database_url.to_string();
        let me = self.clone();
        let spawned = std::thread::Builder::new()
            .name("buko-job-listener".into())
            .spawn(move || me.listen_loop(&url));
        if let Err(e) = spawned {
            log::error!(target: "buko::queue", "cannot start the job listener ({e}); workers will poll");
        }
    }

    fn listen_loop(&self, url: &str) {
        let mut backoff = Duration::from_millis(200);
        while !self.stop.load(Ordering::Relaxed) {
            match PgConnection::establish(url)
                .map_err(|e| e.to_string())
                .and_then(|mut c| {
                    c.batch_execute(&format!("LISTEN {NOTIFY_CHANNEL}"))
                        .map_err(|e| e.to_string())?;
                    Ok(c)
                }) {
                Ok(mut conn) => {
                    backoff = Duration::from_millis(200);
                    // Claims missed while disconnected are picked up now.
                    self.wake();
                    if let Err(e) = self.drain(&mut conn) {
                        log::warn!(target: "buko::queue", "job listener lost its connection: {e}");
                    }
                }
                Err(e) => {
                    log::warn!(target: "buko::queue", "job listener cannot connect: {e}");
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                }
            }
        }
    }

    /// Reads notifications until the connection fails or the listener is stopped. Reading is
    /// non-blocking (libpq consumes what the socket holds), so a short sleep bounds the wake latency.
    fn drain(&self, conn: &mut PgConnection) -> Result<(), ListenError> {
        while !self.stop.load(Ordering::Relaxed) {
            let mut woke = false;
            for n in conn.notifications_iter() {
                n?;
                woke = true;
            }
            if woke {
                self.wake();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }
}

/// The listening connection failed while reading notifications (the listener then reconnects).
#[derive(Debug, thiserror::Error)]
enum ListenError {
    #[error(transparent)]
    Notification(#[from] diesel::result::Error),
}
