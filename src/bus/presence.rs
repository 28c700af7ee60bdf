//! Online users (with the peak) for the admin dashboard. A user is online while seen in the last
//! [`ONLINE_WINDOW`]; sessions `touch` on activity and heartbeats. With Redis the set is shared by every
//! node (a sorted set of user ids by last-seen time; the peak in its own key); without it, or while
//! Redis is down, this node's in-memory view answers.
//!
//! A touch costs next to nothing, because there are many: every WebSocket's heartbeat is one (10,000
//! sockets, a heartbeat each 10 s: 1,000 touches a second). The local view only records the time and
//! trims expired users at most once per [`TRIM_EVERY`] (it trimmed the whole map on every touch);
//! the shared view collects the node's touches and writes them to Redis in one script call per
//! [`FLUSH_EVERY`] (it made one call per touch). Counts are exact at the moment they are read:
//! `online` trims, and sends what this node has collected first.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::future::{ready, LocalBoxFuture};
use futures_util::FutureExt;

use super::redis::Redis;

pub const ONLINE_WINDOW: Duration = Duration::from_secs(60);
/// How often, at most, a touch trims the local view.
pub const TRIM_EVERY: Duration = Duration::from_secs(1);
/// How long the shared view's touches are collected before one write to Redis.
pub const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// User ids per script call (Lua's stack takes a few thousand arguments at most).
const FLUSH_BATCH: usize = 500;

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
    trimmed: Option<Instant>,
}

impl Seen {
    fn trim(&mut self, now: Instant, window: Duration) -> u64 {
        self.last.retain(|_, t| now.duration_since(*t) < window);
        self.trimmed = Some(now);
        let n = self.last.len() as u64;
        self.peak = self.peak.max(n);
        n
    }
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

    /// Records `user` as seen now; trims the expired ones when the last trim is [`TRIM_EVERY`] old.
    fn seen(&self, user: String) {
        let mut s = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        s.last.insert(user, now);
        if s.trimmed
            .is_none_or(|t| now.duration_since(t) >= TRIM_EVERY)
        {
            s.trim(now, self.window);
        }
    }

    /// `(online now, peak)`, exact: trims first.
    fn count(&self) -> (u64, u64) {
        let mut s = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let n = s.trim(Instant::now(), self.window);
        (n, s.peak)
    }
}

impl Presence for MemoryPresence {
    fn touch(&self, user_id: String) -> LocalBoxFuture<'static, ()> {
        self.seen(user_id);
        Box::pin(ready(()))
    }

    fn online(&self) -> LocalBoxFuture<'static, (u64, u64)> {
        Box::pin(ready(self.count()))
    }
}

/// KEYS: the set, the peak. ARGV: window (ms), then the user ids seen (none: count only). Returns
/// {online, peak}.
const TOUCH: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
if #ARGV > 1 then
  for i = 2, #ARGV do
    redis.call('ZADD', KEYS[1], now, ARGV[i])
  end
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
#[derive(Clone)]
pub struct RedisPresence {
    redis: Redis,
    set_key: String,
    peak_key: String,
    window: Duration,
    flush_every: Duration,
    script: Arc<redis::Script>,
    local: Arc<MemoryPresence>,
    /// Touched since the last write to Redis, and whether a write is scheduled.
    pending: Arc<Mutex<Pending>>,
}

#[derive(Default)]
struct Pending {
    users: HashSet<String>,
    scheduled: bool,
}

impl RedisPresence {
    /// `prefix`: `buko:` in production, random in tests.
    pub fn new(redis: Redis, prefix: &str, window: Duration) -> Self {
        RedisPresence {
            redis,
            set_key: format!("{prefix}online"),
            peak_key: format!("{prefix}online:peak"),
            window,
            flush_every: FLUSH_EVERY,
            script: Arc::new(redis::Script::new(TOUCH)),
            local: Arc::new(MemoryPresence::new(window)),
            pending: Arc::default(),
        }
    }

    /// Collects touches for `every` before writing them (tests use a short one).
    pub fn flushing_every(mut self, every: Duration) -> Self {
        self.flush_every = every;
        self
    }

    /// Writes what this node collected (in batches) and returns the shared count; the local count
    /// when Redis fails (the local view is always fed, so an outage shows this node's users, not 0).
    async fn flush(self) -> (u64, u64) {
        let users: Vec<String> = {
            let mut p = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            p.scheduled = false;
            p.users.drain().collect()
        };
        let mut answer = None;
        let mut batches: Vec<Vec<String>> = users.chunks(FLUSH_BATCH).map(<[_]>::to_vec).collect();
        if batches.is_empty() {
            batches.push(Vec::new());
        }
        for batch in batches {
            let (script, keys) = (
                self.script.clone(),
                (self.set_key.clone(), self.peak_key.clone()),
            );
            let window = self.window.as_millis() as u64;
            answer = self
                .redis
                .with_conn("presence", move |c| {
                    async move {
                        script
                            .key(keys.0)
                            .key(keys.1)
                            .arg(window)
                            .arg(batch)
                            .invoke_async::<(u64, u64)>(c)
                            .await
                    }
                    .boxed()
                })
                .await
                .ok();
        }
        answer.unwrap_or_else(|| self.local.count())
    }
}

impl Presence for RedisPresence {
    fn touch(&self, user_id: String) -> LocalBoxFuture<'static, ()> {
        self.local.seen(user_id.clone());
        let mut p = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        p.users.insert(user_id);
        if !p.scheduled {
            p.scheduled = true;
            let (this, every) = (self.clone(), self.flush_every);
            actix_web::rt::spawn(async move {
                tokio::time::sleep(every).await;
                this.flush().await;
            });
        }
        Box::pin(ready(()))
    }

    fn online(&self) -> LocalBoxFuture<'static, (u64, u64)> {
        self.clone().flush().boxed_local()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_touch_trims_at_most_once_a_second_and_a_read_is_exact() {
        let m = MemoryPresence::new(Duration::from_millis(10));
        m.seen("a".into());
        std::thread::sleep(Duration::from_millis(20));
        m.seen("b".into());
        // "a" expired, but the last trim was under TRIM_EVERY ago: the touch left it.
        assert_eq!(m.seen.lock().expect("not poisoned").last.len(), 2);
        assert_eq!(m.count(), (1, 1));
        assert_eq!(m.seen.lock().expect("not poisoned").last.len(), 1);
    }
}
