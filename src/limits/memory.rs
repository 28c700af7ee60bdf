//! A sliding-window log per key, in this process. Exact on one node; `RedisLimiter` does the same
//! atomically across nodes.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures_util::future::{ready, LocalBoxFuture};

use super::{Decision, RateLimiter};

#[derive(Default)]
pub struct MemoryLimiter {
    windows: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl MemoryLimiter {
    pub fn new() -> Self {
        Self::default()
    }

    /// The decision at `now` (separate from the clock so it can be tested).
    pub fn hit_at(&self, key: String, limit: u64, window: Duration, now: Instant) -> Decision {
        let mut map = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        // Bound memory: occasionally forget keys whose window has passed.
        if map.len() > 100_000 {
            map.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < window));
        }
        let q = map.entry(key).or_default();
        while q.front().is_some_and(|t| now.duration_since(*t) >= window) {
            q.pop_front();
        }
        if (q.len() as u64) < limit {
            q.push_back(now);
            Decision {
                allowed: true,
                remaining: limit - q.len() as u64,
                retry_after_secs: 0,
            }
        } else {
            let oldest = q.front().copied().unwrap_or(now);
            let wait = window.saturating_sub(now.duration_since(oldest));
            Decision {
                allowed: false,
                remaining: 0,
                retry_after_secs: wait.as_secs().max(1),
            }
        }
    }
}

impl RateLimiter for MemoryLimiter {
    fn hit(&self, key: String, limit: u64, window: Duration) -> LocalBoxFuture<'static, Decision> {
        Box::pin(ready(self.hit_at(key, limit, window, Instant::now())))
    }

    fn used(&self, key: String, window: Duration) -> LocalBoxFuture<'static, u64> {
        let now = Instant::now();
        let map = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let n = map.get(&key).map_or(0, |q| {
            q.iter()
                .filter(|t| now.duration_since(**t) < window)
                .count()
        });
        Box::pin(ready(n as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admits_limit_then_refuses_until_the_window_slides() {
        let l = MemoryLimiter::new();
        let t0 = Instant::now();
        let w = Duration::from_secs(3600);
        for i in 0..3 {
            let d = l.hit_at("u".into(), 3, w, t0 + Duration::from_secs(i));
            assert!(d.allowed);
            assert_eq!(d.remaining, 2 - i);
        }
        let d = l.hit_at("u".into(), 3, w, t0 + Duration::from_secs(10));
        assert!(!d.allowed);
        assert_eq!(d.retry_after_secs, 3590);
        assert!(l.hit_at("other".into(), 3, w, t0).allowed);
        assert!(
            l.hit_at("u".into(), 3, w, t0 + w + Duration::from_secs(1))
                .allowed
        );
    }
}
