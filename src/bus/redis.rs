//! The node's one multiplexed Redis connection, created lazily so a node starts while Redis is away
//! (and again after it breaks), plus the node's view of Redis health. Every command of the node shares
//! that connection: Redis answers in order on one socket, so nothing waits for a connection of its
//! own (a pool of exclusive connections made each request queue for one under load, and pinged each
//! before use). Redis is an accelerator for a multi-node deployment, not a hard
//! dependency: when it goes away every Redis-backed piece (limiter, presence, progress relay) falls
//! back to local-only behaviour, `/health/ready` says "degraded", and all recover when it returns.
//! While Redis is known to be down, callers skip it (no 1 s connection timeout on every request);
//! the monitor keeps probing and flips the state back. A refused connection marks it down at once; a
//! slow answer (an operation past its timeout) does so only after [`SLOW_DOWN_AFTER`] in a
//! row: one slow moment must not send the whole node local-only.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bb8::ManageConnection;
use bb8_redis::RedisConnectionManager;
use futures_util::FutureExt;
use redis::aio::MultiplexedConnection;

/// Why a Redis operation did not happen; every caller then uses its local fallback.
#[derive(Clone, Debug, thiserror::Error)]
pub enum BusError {
    #[error("invalid REDIS_URL: {0}")]
    Url(String),
    /// Redis is known to be down: the last failure's message (the call was skipped).
    #[error("{0}")]
    Down(String),
    #[error("timed out after {0:?}")]
    TimedOut(Duration),
    /// No connection to Redis could be made.
    #[error("{0}")]
    Connect(String),
    /// Redis answered with an error, or the connection broke.
    #[error("{0}")]
    Command(String),
    /// A subscription's connection closed.
    #[error("subscription ended")]
    SubscriptionEnded,
}

impl From<redis::RedisError> for BusError {
    fn from(e: redis::RedisError) -> Self {
        BusError::Command(e.to_string())
    }
}

#[derive(Clone)]
pub struct Redis {
    /// The URL, for dedicated (pub/sub) connections.
    pub client: redis::Client,
    /// Makes the shared connection (bb8-redis's manager, the pool's own connector).
    manager: Arc<RedisConnectionManager>,
    shared: Arc<tokio::sync::Mutex<Option<Shared>>>,
    health: Arc<Health>,
}

/// The shared connection and its generation, so a caller that saw it break discards that one and
/// not a newer one another caller has made since.
struct Shared {
    generation: u64,
    conn: MultiplexedConnection,
}

struct Health {
    down: AtomicBool,
    /// The last shared connection's generation.
    generation: AtomicU64,
    /// Slow answers in a row (reset by any success).
    slow: AtomicU32,
    last_error: Mutex<Option<String>>,
    /// Milliseconds since `epoch` of the last "Redis is down" warning (warnings are rate-limited).
    last_warning_ms: AtomicU64,
    /// Milliseconds since `epoch` of the last attempt made while down (one retry per [`RETRY_DOWN`]).
    last_probe_ms: AtomicU64,
    epoch: Instant,
}

impl Default for Health {
    fn default() -> Self {
        Health {
            down: AtomicBool::new(false),
            generation: AtomicU64::new(0),
            slow: AtomicU32::new(0),
            last_error: Mutex::new(None),
            last_warning_ms: AtomicU64::new(0),
            last_probe_ms: AtomicU64::new(0),
            epoch: Instant::now(),
        }
    }
}

/// How long a whole Redis round trip may take before it counts as down.
pub const OP_TIMEOUT: Duration = Duration::from_millis(1500);
/// Slow answers in a row that mark Redis down.
pub const SLOW_DOWN_AFTER: u32 = 3;
/// While down, one caller per this period tries Redis again (besides the monitor's probes).
const RETRY_DOWN: Duration = Duration::from_secs(2);
/// How long making the connection may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

impl Redis {
    pub fn connect_lazy(url: &str) -> Result<Redis, BusError> {
        let invalid = |e: redis::RedisError| BusError::Url(e.to_string());
        let manager = RedisConnectionManager::new(url).map_err(invalid)?;
        let client = redis::Client::open(url).map_err(invalid)?;
        Ok(Redis {
            client,
            manager: Arc::new(manager),
            shared: Arc::default(),
            health: Arc::default(),
        })
    }

    /// The node's shared connection (a handle onto one socket; cheap to clone), made on first use and
    /// after the last one broke. Its generation goes back to [`Redis::discard`].
    async fn shared(&self) -> Result<(u64, MultiplexedConnection), BusError> {
        let mut slot = self.shared.lock().await;
        if let Some(s) = slot.as_ref() {
            return Ok((s.generation, s.conn.clone()));
        }
        let mut conn = tokio::time::timeout(CONNECT_TIMEOUT, self.manager.connect())
            .await
            .map_err(|_| BusError::Connect(format!("no connection within {CONNECT_TIMEOUT:?}")))?
            .map_err(|e| BusError::Connect(e.to_string()))?;
        // Answers that never come leave the connection's queue after this (the whole call has its
        // own, shorter or equal, deadline).
        conn.set_response_timeout(OP_TIMEOUT);
        let generation = self.health.generation.fetch_add(1, Ordering::Relaxed) + 1;
        *slot = Some(Shared {
            generation,
            conn: conn.clone(),
        });
        Ok((generation, conn))
    }

    /// A connection for a caller that runs its own commands (health probes, tests, control commands).
    pub async fn connection(&self) -> Result<MultiplexedConnection, BusError> {
        self.shared().await.map(|(_, c)| c)
    }

    /// Drops connection `generation` after it broke (its socket closed or failed), so the next
    /// command makes a new one. A slow answer is not a broken connection.
    async fn discard(&self, generation: u64, e: &redis::RedisError) {
        if e.is_timeout()
            || !(e.is_io_error() || e.is_connection_dropped() || e.is_unrecoverable_error())
        {
            return;
        }
        let mut slot = self.shared.lock().await;
        if slot.as_ref().is_some_and(|s| s.generation == generation) {
            *slot = None;
        }
    }

    pub async fn ping(&self, timeout: Duration) -> Result<(), BusError> {
        let r = self
            .with_timeout(timeout, |c| {
                async move { redis::cmd("PING").query_async::<String>(c).await }.boxed()
            })
            .await;
        match &r {
            Ok(_) => self.mark_up(),
            Err((e, _)) => self.mark_down(&e.to_string(), "ping"),
        }
        r.map(|_| ()).map_err(|(e, _)| e)
    }

    /// True while the last operation or probe failed: callers use their local fallback directly.
    pub fn is_down(&self) -> bool {
        self.health.down.load(Ordering::Relaxed)
    }

    pub fn last_error(&self) -> Option<String> {
        self.health
            .last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Records a failure of `what`; logs a warning at most every 30 s so an outage cannot flood logs.
    pub fn mark_down(&self, error: &str, what: &str) {
        self.health.down.store(true, Ordering::Relaxed);
        *self
            .health
            .last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(error.to_string());
        let elapsed = self.health.epoch.elapsed().as_millis() as u64;
        // The next retry by a caller waits a full RETRY_DOWN from this failure.
        self.health
            .last_probe_ms
            .store(elapsed + RETRY_DOWN.as_millis() as u64, Ordering::Relaxed);
        let now_ms = elapsed + 30_001;
        let last = self.health.last_warning_ms.load(Ordering::Relaxed);
        if now_ms.saturating_sub(last) > 30_000
            && self
                .health
                .last_warning_ms
                .compare_exchange(last, now_ms, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            log::warn!(target: "buko::redis", what = what; "Redis unavailable, running local-only: {error}");
        }
    }

    /// Records an answer that came too late: down only after [`SLOW_DOWN_AFTER`] in a row.
    pub fn mark_slow(&self, error: &str, what: &str) {
        let n = self.health.slow.fetch_add(1, Ordering::Relaxed) + 1;
        if n >= SLOW_DOWN_AFTER {
            self.mark_down(error, what);
        } else {
            log::info!(target: "buko::redis", what = what; "Redis slow ({n} in a row): {error}");
        }
    }

    pub fn mark_up(&self) {
        self.health.slow.store(0, Ordering::Relaxed);
        if self.health.down.swap(false, Ordering::Relaxed) {
            log::info!(target: "buko::redis", "Redis is back; shared limits, presence and progress resume");
        }
    }

    /// While down: true for one caller per [`RETRY_DOWN`], so recovery is noticed even without the
    /// monitor, and the others go straight to their fallback.
    fn may_probe(&self) -> bool {
        let now = self.health.epoch.elapsed().as_millis() as u64 + RETRY_DOWN.as_millis() as u64;
        let last = self.health.last_probe_ms.load(Ordering::Relaxed);
        now.saturating_sub(last) >= RETRY_DOWN.as_millis() as u64
            && self
                .health
                .last_probe_ms
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }

    /// Probes Redis every `every` for as long as the node runs, so a recovery is noticed even when no
    /// request touches Redis (callers skip it while it is down). Spawn once per node.
    pub async fn monitor(self, every: Duration) {
        loop {
            let _ = self.ping(OP_TIMEOUT).await;
            tokio::time::sleep(every).await;
        }
    }

    /// Runs `op` on the shared connection with a timeout, recording health; `Err` means "use the local
    /// fallback". Skips Redis at once while it is known to be down.
    pub async fn with_conn<T, F>(&self, what: &str, op: F) -> Result<T, BusError>
    where
        F: for<'c> FnOnce(
            &'c mut redis::aio::MultiplexedConnection,
        ) -> futures_util::future::BoxFuture<'c, redis::RedisResult<T>>,
    {
        if self.is_down() && !self.may_probe() {
            return Err(BusError::Down(
                self.last_error()
                    .unwrap_or_else(|| "Redis is down".to_string()),
            ));
        }
        let r = self.with_timeout(OP_TIMEOUT, op).await;
        match r {
            Ok(v) => {
                self.mark_up();
                Ok(v)
            }
            Err((e, true)) => {
                self.mark_slow(&e.to_string(), what);
                Err(e)
            }
            Err((e, false)) => {
                self.mark_down(&e.to_string(), what);
                Err(e)
            }
        }
    }

    /// Runs `op` on the shared connection within `timeout`. `Err((error, slow))`: slow = the answer
    /// came too late (not a refusal or a broken connection).
    async fn with_timeout<T, F>(&self, timeout: Duration, op: F) -> Result<T, (BusError, bool)>
    where
        F: for<'c> FnOnce(
            &'c mut MultiplexedConnection,
        ) -> futures_util::future::BoxFuture<'c, redis::RedisResult<T>>,
    {
        let started = Instant::now();
        let run = async {
            let (generation, mut conn) = self.shared().await.map_err(|e| (e, false))?;
            match op(&mut conn).await {
                Ok(v) => Ok(v),
                Err(e) => {
                    self.discard(generation, &e).await;
                    let slow = e.is_timeout();
                    Err((BusError::from(e), slow))
                }
            }
        };
        tokio::time::timeout(timeout, run)
            .await
            .map_err(|_| (BusError::TimedOut(started.elapsed()), true))
            .and_then(|r| r)
    }
}
