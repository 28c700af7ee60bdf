//! A bb8 pool of Redis connections, created lazily so a node starts while Redis is away, plus the
//! node's view of Redis health. Redis is an accelerator for a multi-node deployment, not a hard
//! dependency: when it goes away every Redis-backed piece (limiter, presence, progress relay) falls
//! back to local-only behaviour, `/health/ready` says "degraded", and all recover when it returns.
//! While Redis is known to be down, callers skip it (no 1 s connection timeout on every request);
//! the monitor keeps probing and flips the state back. A refused connection marks it down at once; a
//! slow answer (an operation or a pool wait past its timeout) does so only after [`SLOW_DOWN_AFTER`] in a
//! row: one slow moment must not send the whole node local-only.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bb8_redis::RedisConnectionManager;

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
    /// The pool could not hand out a connection.
    #[error("{0}")]
    Pool(String),
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
    pub pool: bb8::Pool<RedisConnectionManager>,
    /// The URL, for dedicated (pub/sub) connections.
    pub client: redis::Client,
    health: Arc<Health>,
}

struct Health {
    down: AtomicBool,
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

impl Redis {
    pub fn connect_lazy(url: &str) -> Result<Redis, BusError> {
        let invalid = |e: redis::RedisError| BusError::Url(e.to_string());
        let manager = RedisConnectionManager::new(url).map_err(invalid)?;
        let client = redis::Client::open(url).map_err(invalid)?;
        let pool = bb8::Pool::builder()
            .max_size(16)
            .connection_timeout(Duration::from_secs(1))
            .build_unchecked(manager);
        Ok(Redis {
            pool,
            client,
            health: Arc::default(),
        })
    }

    pub async fn ping(&self, timeout: Duration) -> Result<(), BusError> {
        let check = async {
            let mut conn = self
                .pool
                .get()
                .await
                .map_err(|e| BusError::Pool(e.to_string()))?;
            redis::cmd("PING").query_async::<String>(&mut *conn).await?;
            Ok(())
        };
        let r = tokio::time::timeout(timeout, check)
            .await
            .map_err(|_| BusError::TimedOut(timeout))
            .and_then(|r| r);
        match &r {
            Ok(()) => self.mark_up(),
            Err(e) => self.mark_down(&e.to_string(), "ping"),
        }
        r
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

    /// Runs `op` on a pooled connection with a timeout, recording health; `Err` means "use the local
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
        let started = Instant::now();
        // `Err((error, slow))`: slow = a timeout (the pool's wait or the whole round trip).
        let run = async {
            let mut conn = self.pool.get().await.map_err(|e| {
                // A pool wait is "slow" only while connections exist; with none, bb8 timed out
                // trying to connect: Redis is unreachable.
                let slow =
                    matches!(e, bb8::RunError::TimedOut) && self.pool.state().connections > 0;
                (BusError::Pool(e.to_string()), slow)
            })?;
            op(&mut conn).await.map_err(|e| {
                let slow = e.is_timeout();
                (BusError::from(e), slow)
            })
        };
        let r = tokio::time::timeout(OP_TIMEOUT, run)
            .await
            .map_err(|_| (BusError::TimedOut(started.elapsed()), true))
            .and_then(|r| r);
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
}
