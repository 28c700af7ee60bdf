//! A sliding-window limiter shared by every node through Redis. One Lua script per attempt trims the
//! window, counts and (only when admitted) records the attempt, so concurrent attempts on any number of
//! nodes can never over-admit; the script reads Redis's clock, so node clock skew does not matter. The
//! key expires with its window. When Redis fails the node falls back to its own `MemoryLimiter` (exact
//! on this node, not across nodes) and says so in the log and on `/health/ready`.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::LocalBoxFuture;
use futures_util::FutureExt;

use super::{Decision, MemoryLimiter, RateLimiter};
use crate::bus::redis::Redis;

/// KEYS[1]: the window's sorted set. ARGV: window (ms), limit, a unique member for this attempt.
/// Returns {admitted, remaining, retry_after_ms}.
const HIT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
if n < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return {1, limit - n - 1, 0}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local wait = window
if oldest[2] then wait = tonumber(oldest[2]) + window - now end
return {0, 0, wait}
";

/// KEYS[1]: the window's sorted set. ARGV: window (ms). Returns the attempts inside the window.
const USED: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZCOUNT', KEYS[1], '(' .. (now - tonumber(ARGV[1])), '+inf')
";

pub struct RedisLimiter {
    redis: Redis,
    prefix: String,
    fallback: Arc<MemoryLimiter>,
    hit: Arc<redis::Script>,
    used: Arc<redis::Script>,
}

impl RedisLimiter {
    /// `prefix` namespaces the keys (`buko:rl:` in production; tests use a random one).
    pub fn new(redis: Redis, prefix: &str) -> RedisLimiter {
        RedisLimiter {
            redis,
            prefix: prefix.to_string(),
            fallback: Arc::new(MemoryLimiter::new()),
            hit: Arc::new(redis::Script::new(HIT)),
            used: Arc::new(redis::Script::new(USED)),
        }
    }
}

fn millis(d: Duration) -> u64 {
    (d.as_millis() as u64).max(1)
}

impl RateLimiter for RedisLimiter {
    fn hit(&self, key: String, limit: u64, window: Duration) -> LocalBoxFuture<'static, Decision> {
        let (redis, script, fallback) =
            (self.redis.clone(), self.hit.clone(), self.fallback.clone());
        let full = format!("{}{key}", self.prefix);
        async move {
            let member = uuid::Uuid::new_v4().simple().to_string();
            let r = redis
                .with_conn("rate limit", move |c| {
                    async move {
                        script
                            .key(full)
                            .arg(millis(window))
                            .arg(limit)
                            .arg(member)
                            .invoke_async::<(u64, u64, u64)>(c)
                            .await
                    }
                    .boxed()
                })
                .await;
            match r {
                Ok((admitted, remaining, wait_ms)) => Decision {
                    allowed: admitted == 1,
                    remaining,
                    retry_after_secs: if admitted == 1 {
                        0
                    } else {
                        wait_ms.div_ceil(1000).max(1)
                    },
                },
                Err(_) => fallback.hit(key, limit, window).await,
            }
        }
        .boxed_local()
    }

    fn used(&self, key: String, window: Duration) -> LocalBoxFuture<'static, u64> {
        let (redis, script, fallback) =
            (self.redis.clone(), self.used.clone(), self.fallback.clone());
        let full = format!("{}{key}", self.prefix);
        async move {
            let r = redis
                .with_conn("rate limit", move |c| {
                    async move {
                        script
                            .key(full)
                            .arg(millis(window))
                            .invoke_async::<u64>(c)
                            .await
                    }
                    .boxed()
                })
                .await;
            match r {
                Ok(n) => n,
                Err(_) => fallback.used(key, window).await,
            }
        }
        .boxed_local()
    }
}
