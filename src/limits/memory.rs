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
        self.hit_all_at(vec![(key, limit)], window, now)
    }

    /// [`RateLimiter::hit_all`] at `now`: every window checked, then the attempt recorded in all of
    /// them or none, under one lock.
    pub fn hit_all_at(
        &self,
        windows: Vec<(String, u64)>,
        window: Duration,
        now: Instant,
    ) -> Decision {
        let mut map = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        // Bound memory: occasionally forget keys whose window has passed.
        if map.len() > 100_000 {
            map.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < window));
        }
        let mut remaining = u64::MAX;
        let mut wait: Option<Duration> = None;
        for (key, limit) in &windows {
            let q = map.entry(key.clone()).or_default();
            while q.front().is_some_and(|t| now.duration_since(*t) >= window) {
                q.pop_front();
            }
            let used = q.len() as u64;
            if used < *limit {
                remaining = remaining.min(limit - used - 1);
            } else {
                let oldest = q.front().copied().unwrap_or(now);
                let w = window.saturating_sub(now.duration_since(oldest));
                wait = Some(wait.map_or(w, |x| x.max(w)));
            }
        }
        if let Some(w) = wait {
            return Decision {
                allowed: false,
                remaining: 0,
                retry_after_secs: w.as_secs().max(1),
            };
        }
        for (key, _) in windows {
            map.entry(key).or_default().push_back(now);
        }
        Decision {
            allowed: true,
            remaining: if remaining == u64::MAX { 0 } else { remaining },
            retry_after_secs: 0,
        }
    }
}

impl RateLimiter for MemoryLimiter {
    fn hit_all(
        &self,
        windows: Vec<(String, u64)>,
        window: Duration,
    ) -> LocalBoxFuture<'static, Decision> {
        Box::pin(ready(self.hit_all_at(windows, window, Instant::now())))
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

    #[test]
    fn several_windows_count_an_attempt_in_all_or_none() {
        let l = MemoryLimiter::new();
        let t0 = Instant::now();
        let w = Duration::from_secs(60);
        let both = || vec![("ip".to_string(), 5), ("endpoint".to_string(), 2)];
        let d = l.hit_all_at(both(), w, t0);
        assert_eq!(
            (d.allowed, d.remaining),
            (true, 1),
            "the tighter window's count"
        );
        assert!(l.hit_all_at(both(), w, t0 + Duration::from_secs(1)).allowed);
        let d = l.hit_all_at(both(), w, t0 + Duration::from_secs(2));
        assert!(!d.allowed, "the endpoint window is full");
        assert_eq!(d.retry_after_secs, 58);
        // The refused attempt used nothing of the IP's window: 3 left of 5.
        let d = l.hit_at("ip".into(), 5, w, t0 + Duration::from_secs(3));
        assert_eq!((d.allowed, d.remaining), (true, 2));
    }
}
