//! The retry policy: full-jitter exponential backoff that honours `retry-after`, and the store-call
//! retry loop (`Unavailable` is retried, everything else is the caller's to handle). No LLM logic here.

use std::future::Future;
use std::time::Duration;

use rand::Rng;

use crate::config::RetryConfig;
use crate::ports::StoreError;

/// Delay before retry number `attempt` (0 = first retry): `random(0, min(cap, base·2^attempt))`, but
/// never sooner than what the provider asked for.
pub fn backoff(config: &RetryConfig, attempt: u32, retry_after: Option<Duration>) -> Duration {
    let ceiling = exp_ceiling(config, attempt);
    let jitter = if ceiling.is_zero() {
        Duration::ZERO
    } else {
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(rand::rng().random_range(0..=nanos))
    };
    match retry_after {
        Some(min) => jitter.max(min),
        None => jitter,
    }
}

/// `min(cap, base·2^attempt)` without overflow.
pub fn exp_ceiling(config: &RetryConfig, attempt: u32) -> Duration {
    let factor = 2u32.checked_pow(attempt.min(31)).unwrap_or(u32::MAX);
    config
        .base
        .checked_mul(factor)
        .unwrap_or(config.cap)
        .min(config.cap)
}

/// Runs a store call, retrying `Unavailable` with backoff; other errors return at once.
pub async fn store_call<T, F, Fut>(config: &RetryConfig, mut op: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    let mut attempt = 0;
    loop {
        match op().await {
            Err(StoreError::Unavailable(msg)) if attempt + 1 < config.max_attempts => {
                log::warn!("store unavailable ({msg}); retry {}", attempt + 1);
                tokio::time::sleep(backoff(config, attempt, None)).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> RetryConfig {
        RetryConfig {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(2),
            max_attempts: 5,
        }
    }

    #[test]
    fn backoff_stays_within_exponential_ceiling_and_cap() {
        let c = cfg();
        for attempt in 0..40 {
            let ceiling = exp_ceiling(&c, attempt);
            assert!(ceiling <= c.cap);
            for _ in 0..50 {
                assert!(backoff(&c, attempt, None) <= ceiling);
            }
        }
        assert_eq!(exp_ceiling(&c, 0), Duration::from_millis(100));
        assert_eq!(exp_ceiling(&c, 3), Duration::from_millis(800));
        assert_eq!(exp_ceiling(&c, 10), Duration::from_secs(2));
    }

    #[test]
    fn backoff_is_jittered_not_constant() {
        let c = cfg();
        let samples: Vec<_> = (0..50).map(|_| backoff(&c, 4, None)).collect();
        assert!(samples.iter().any(|d| *d != samples[0]));
    }

    #[test]
    fn backoff_never_sooner_than_retry_after() {
        let c = cfg();
        for attempt in 0..5 {
            assert!(backoff(&c, attempt, Some(Duration::from_secs(7))) >= Duration::from_secs(7));
        }
    }

    #[tokio::test]
    async fn store_call_retries_unavailable_only() {
        let c = RetryConfig {
            base: Duration::from_millis(1),
            cap: Duration::from_millis(2),
            max_attempts: 5,
        };
        let mut n = 0;
        let r: Result<u32, _> = store_call(&c, || {
            n += 1;
            let v = n;
            async move {
                if v < 3 {
                    Err(StoreError::Unavailable("busy".into()))
                } else {
                    Ok(v)
                }
            }
        })
        .await;
        assert_eq!(r, Ok(3));
        let mut m = 0;
        let r: Result<u32, _> = store_call(&c, || {
            m += 1;
            async { Err(StoreError::Fenced("b".into())) }
        })
        .await;
        assert_eq!(r, Err(StoreError::Fenced("b".into())));
        assert_eq!(m, 1);
    }
}
