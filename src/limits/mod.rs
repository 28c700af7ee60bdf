//! Rate limits: per API key, per IP and per endpoint. The `RateLimiter` trait has an
//! in-memory implementation (one node) and a Redis one (atomic across nodes); callers only see the trait.
//! Plan quotas (per user, read from the `plans` table) are a ledger in the database: see [`quota`].

pub mod api_key;
pub mod http;
pub mod memory;
pub mod quota;
pub mod redis;

use std::time::Duration;

use futures_util::future::LocalBoxFuture;

pub use self::redis::RedisLimiter;
pub use memory::MemoryLimiter;

/// The outcome of one attempt against a limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// Attempts left in the window after this one (0 when refused).
    pub remaining: u64,
    /// When refused: seconds until an attempt can succeed (at least 1).
    pub retry_after_secs: u64,
}

pub trait RateLimiter: Send + Sync {
    /// Counts one attempt against every `(key, limit)` per sliding `window`, all or none: admitted
    /// only when every window admits it, and a refused attempt is counted in none (so a client refused
    /// by one window does not use up the others). `remaining` is the smallest left; `retry_after_secs`
    /// the longest wait among the refusing windows. One round trip on Redis.
    fn hit_all(
        &self,
        windows: Vec<(String, u64)>,
        window: Duration,
    ) -> LocalBoxFuture<'static, Decision>;
    /// Counts one attempt for `key` against `limit` per sliding `window`; a refused attempt is not counted.
    fn hit(&self, key: String, limit: u64, window: Duration) -> LocalBoxFuture<'static, Decision> {
        self.hit_all(vec![(key, limit)], window)
    }
    /// How many attempts `key` has made in the window (for "remaining quota" displays).
    fn used(&self, key: String, window: Duration) -> LocalBoxFuture<'static, u64>;
}
