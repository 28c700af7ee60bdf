//! A sliding-window limiter shared by every node through Redis. One Lua script per attempt trims the
//! windows, counts and (only when admitted) records the attempt, so concurrent attempts on any number of
//! nodes can never over-admit; the script reads Redis's clock, so node clock skew does not matter. The
//! key expires with its window. When Redis fails the node falls back to its own `MemoryLimiter` (exact
//! on this node, not across nodes) and says so in the log and on `/health/ready`.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::LocalBoxFuture;
use futures_util::FutureExt;

use super::{Decision, MemoryLimiter, RateLimiter};
use crate::bus::redis::Redis;

/// KEYS: the windows' sorted sets. ARGV: window (ms), a unique member for this attempt, then one
/// limit per key. Trims every window, and records the attempt in all of them only when every one
/// admits it. Returns {admitted, remaining (the smallest), retry_after_ms (the longest)}.
const HIT_ALL: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local remaining = -1
local refused = false
local wait = 0
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[i + 2])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local n = redis.call('ZCARD', key)
  if n < limit then
    local left = limit - n - 1
    if remaining < 0 or left < remaining then remaining = left end
  else
    refused = true
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    local w = window
    if oldest[2] then w = tonumber(oldest[2]) + window - now end
    if w > wait then wait = w end
  end
end
if refused then return {0, 0, wait} end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[2])
  redis.call('PEXPIRE', key, window)
end
if remaining < 0 then remaining = 0 end
return {1, remaining, 0}
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
    hit_all: Arc<redis::Script>,
    used: Arc<redis::Script>,
}

impl RedisLimiter {
    /// `prefix` namespaces the keys (`buko:rl:` in production; tests use a random one).
    pub fn new(redis: Redis, prefix: &str) -> RedisLimiter {
        RedisLimiter {
            redis,
            prefix: prefix.to_string(),
            fallback: Arc::new(MemoryLimiter::new()),
            hit_all: Arc::new(redis::Script::new(HIT_ALL)),
            used: Arc::new(redis::Script::new(USED)),
        }
    }
}

fn millis(d: Duration) -> u64 {
    (d.as_millis() as u64).max(1)
}

impl RateLimiter for RedisLimiter {
    fn hit_all(
        &self,
        windows: Vec<(String, u64)>,
        window: Duration,
    ) -> LocalBoxFuture<'static, Decision> {
        let (redis, script, fallback) = (
            self.redis.clone(),
            self.hit_all.clone(),
            self.fallback.clone(),
        );
        let keys: Vec<String> = windows
            .iter()
            .map(|(key, _)| format!("{}{key}", self.prefix))
            .collect();
        let limits: Vec<u64> = windows.iter().map(|(_, limit)| *limit).collect();
        async move {
            let member = uuid::Uuid::new_v4().simple().to_string();
            let r = redis
                .with_conn("rate limit", move |c| {
                    async move {
                        let mut call = script.prepare_invoke();
                        call.key(keys).arg(millis(window)).arg(member).arg(limits);
                        call.invoke_async::<(u64, u64, u64)>(c).await
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
                Err(_) => fallback.hit_all(windows, window).await,
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
