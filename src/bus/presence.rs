//! Online users (with the peak) for the admin dashboard. A user is online while seen in the last
//! [`ONLINE_WINDOW`]; sessions `touch` on activity and heartbeats. With Redis the set is shared by every
//! node (a sorted set of user ids by last-seen time, trimmed on each touch; the peak in its own key);
//! without it, or while Redis is down, this node's in-memory view answers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::future::{ready, LocalBoxFuture};
use futures_util::FutureExt;

use super::redis::Redis;

pub const ONLINE_WINDOW: Duration = Duration::from_secs(60);

pub trait Presence: Send + Sync {
    /// Marks `user_id` as seen now.
    fn touch(&self, user_id: String) -> LocalBoxFuture<'static, ()>;
    /// `(online now, peak)`.
    fn online(&self) -> LocalBoxFuture<'static, (u64, u64)>;
}

#[derive(Default)]
struct Seen {
    last: HashMap<String, Instant>,
    peak: u64,
}

/// One node's view.
pub struct MemoryPresence {
    window: Duration,
    seen: Mutex<Seen>,
}

impl Default for MemoryPresence {
    fn default() -> Self {
        MemoryPresence::new(ONLINE_WINDOW)
    }
}

impl MemoryPresence {
    pub fn new(window: Duration) -> Self {
        MemoryPresence {
            window,
            seen: Mutex::default(),
        }
    }

    fn count(&self, touch: Option<String>) -> (u64, u64) {
        let mut s = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if let Some(u) = touch {
            s.last.insert(u, now);
        }
        let window = self.window;
        s.last.retain(|_, t| now.duration_since(*t) < window);
        let n = s.last.len() as u64;
        s.peak = s.peak.max(n);
        (n, s.peak)
    }
}

impl Presence for MemoryPresence {
    fn touch(&self, user_id: String) -> LocalBoxFuture<'static, ()> {
        self.count(Some(user_id));
        Box::pin(ready(()))
    }

    fn online(&self) -> LocalBoxFuture<'static, (u64, u64)> {
        Box::pin(ready(self.count(None)))
    }
}

/// KEYS: the set, the peak. ARGV: window (ms), user id or "" (count only). Returns {online, peak}.
const TOUCH: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
if ARGV[2] ~= '' then
  redis.call('ZADD', KEYS[1], now, ARGV[2])
  redis.call('PEXPIRE', KEYS[1], window * 2)
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
local peak = tonumber(redis.call('GET', KEYS[2]) or '0')
if n > peak then
  peak = n
  redis.call('SET', KEYS[2], peak)
end
return {n, peak}
";

/// Shared by all nodes; falls back to (and keeps feeding) a local view when Redis is away.
pub struct RedisPresence {
    redis: Redis,
    set_key: String,
    peak_key: String,
    window: Duration,
    script: Arc<redis::Script>,
    local: Arc<MemoryPresence>,
}

impl RedisPresence {
    /// `prefix`: `buko:` in production, random in tests.
    pub fn new(redis: Redis, prefix: &str, window: Duration) -> Self {
        RedisPresence {
            redis,
            set_key: format!("{prefix}online"),
            peak_key: format!("{prefix}online:peak"),
            window,
            script: Arc::new(redis::Script::new(TOUCH)),
            local: Arc::new(MemoryPresence::new(window)),
        }
    }

    fn run(&self, user: Option<String>) -> LocalBoxFuture<'static, (u64, u64)> {
        let local = self.local.clone();
        // The local view is always fed, so a Redis outage shows this node's users rather than zero.
        let local_now = local.count(user.clone());
        let (redis, script) = (self.redis.clone(), self.script.clone());
        let keys = (self.set_key.clone(), self.peak_key.clone());
        let window = self.window.as_millis() as u64;
        async move {
            redis
                .with_conn("presence", move |c| {
                    async move {
                        script
                            .key(keys.0)
                            .key(keys.1)
                            .arg(window)
                            .arg(user.unwrap_or_default())
                            .invoke_async::<(u64, u64)>(c)
                            .await
                    }
                    .boxed()
                })
                .await
                .unwrap_or(local_now)
        }
        .boxed_local()
    }
}

impl Presence for RedisPresence {
    fn touch(&self, user_id: String) -> LocalBoxFuture<'static, ()> {
        self.run(Some(user_id)).map(|_| ()).boxed_local()
    }

    fn online(&self) -> LocalBoxFuture<'static, (u64, u64)> {
        self.run(None)
    }
}
