//! Circuit breakers, one per LLM provider, shared by every book of the node. A pure state machine over
//! recent outcomes behind a mutex: asking and reporting are synchronous and take microseconds, so an
//! actor mailbox would only add latency. It never calls the provider itself.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::config::BreakerConfig;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open { until: Instant },
    HalfOpen { in_flight: u32, successes: u32 },
}

/// What a call turned out to be, as far as the breaker cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallOutcome {
    Success,
    /// Only temporary failures mean "the provider is unwell".
    TemporaryFailure,
    /// A permanent error: the provider answered, the request was at fault. Not counted.
    NotCounted,
}

/// Permission to call; hand it back with [`CircuitBreaker::report`].
#[derive(Debug)]
#[must_use]
pub struct Permit {
    trial: bool,
}

#[derive(Debug)]
pub struct CircuitBreaker {
    config: BreakerConfig,
    state: BreakerState,
    /// true = temporary failure.
    window: VecDeque<bool>,
    consecutive: u32,
    /// Failed half-open trials since the breaker last closed (each doubles the open time).
    reopens: u32,
}

impl CircuitBreaker {
    pub fn new(config: BreakerConfig) -> Self {
        CircuitBreaker {
            config,
            state: BreakerState::Closed,
            window: VecDeque::new(),
            consecutive: 0,
            reopens: 0,
        }
    }

    pub fn state(&self) -> BreakerState {
        self.state
    }

    /// A permit, or how long until asking again makes sense.
    pub fn acquire(&mut self, now: Instant) -> Result<Permit, Duration> {
        match self.state {
            BreakerState::Closed => Ok(Permit { trial: false }),
            BreakerState::Open { until } if now < until => Err(until - now),
            BreakerState::Open { .. } => {
                self.state = BreakerState::HalfOpen {
                    in_flight: 1,
                    successes: 0,
                };
                Ok(Permit { trial: true })
            }
            BreakerState::HalfOpen {
                in_flight,
                successes,
            } => {
                if in_flight + successes < self.config.half_open_trials {
                    self.state = BreakerState::HalfOpen {
                        in_flight: in_flight + 1,
                        successes,
                    };
                    Ok(Permit { trial: true })
                } else {
                    // Trials are out; their answer decides. Ask again soon.
                    Err(self.config.cool_down.min(Duration::from_millis(250)))
                }
            }
        }
    }

    pub fn report(&mut self, permit: Permit, outcome: CallOutcome, now: Instant) {
        let failed = outcome == CallOutcome::TemporaryFailure;
        if outcome != CallOutcome::NotCounted {
            self.window.push_back(failed);
            while self.window.len() > self.config.window {
                self.window.pop_front();
            }
            self.consecutive = if failed { self.consecutive + 1 } else { 0 };
        }
        match (self.state, permit.trial) {
            (
                BreakerState::HalfOpen {
                    in_flight,
                    successes,
                },
                true,
            ) => {
                let in_flight = in_flight.saturating_sub(1);
                if failed {
                    self.reopens += 1;
                    self.open(now);
                } else if outcome == CallOutcome::Success {
                    if successes + 1 >= self.config.half_open_trials {
                        self.close();
                    } else {
                        self.state = BreakerState::HalfOpen {
                            in_flight,
                            successes: successes + 1,
                        };
                    }
                } else {
                    self.state = BreakerState::HalfOpen {
                        in_flight,
                        successes,
                    };
                }
            }
            (BreakerState::Closed, _) if failed && self.should_open() => self.open(now),
            // Late answers of calls let through before the state changed do not move it.
            _ => {}
        }
    }

    fn should_open(&self) -> bool {
        if self.consecutive >= self.config.consecutive_failures {
            return true;
        }
        let n = self.window.len();
        if n < self.config.min_calls.max(1) {
            return false;
        }
        let failures = self.window.iter().filter(|f| **f).count();
        failures as f64 / n as f64 >= self.config.failure_rate
    }

    fn open(&mut self, now: Instant) {
        let factor = 2u32.saturating_pow(self.reopens.min(20));
        let cool_down = self
            .config
            .cool_down
            .saturating_mul(factor)
            .min(self.config.max_cool_down.max(self.config.cool_down));
        log::warn!("circuit breaker open for {cool_down:?}");
        self.state = BreakerState::Open {
            until: now + cool_down,
        };
    }

    fn close(&mut self) {
        log::info!("circuit breaker closed");
        self.state = BreakerState::Closed;
        self.window.clear();
        self.consecutive = 0;
        self.reopens = 0;
    }
}

/// The node's breakers keyed by `LlmPort::provider()`. Cheap to clone.
#[derive(Clone)]
pub struct Breakers {
    config: BreakerConfig,
    inner: Arc<Mutex<HashMap<String, CircuitBreaker>>>,
}

impl Breakers {
    pub fn new(config: BreakerConfig) -> Self {
        Breakers {
            config,
            inner: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    fn with<R>(&self, provider: &str, f: impl FnOnce(&mut CircuitBreaker) -> R) -> R {
        // A poisoned lock only means a panic elsewhere mid-update; the state is still usable.
        let mut map = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let breaker = map
            .entry(provider.to_string())
            .or_insert_with(|| CircuitBreaker::new(self.config.clone()));
        f(breaker)
    }

    /// A permit for one call to `provider`, or how long until asking again makes sense. A permit
    /// dropped without a report (the call was cancelled) counts as nothing but frees its trial slot.
    pub fn acquire(&self, provider: &str) -> Result<BreakerPermit, Duration> {
        let permit = self.with(provider, |b| b.acquire(Instant::now()))?;
        Ok(BreakerPermit {
            breakers: self.clone(),
            provider: provider.to_string(),
            permit: Some(permit),
        })
    }

    pub fn state(&self, provider: &str) -> BreakerState {
        self.with(provider, |b| b.state())
    }
}

/// A [`Permit`] bound to its breaker; report the outcome with [`BreakerPermit::report`].
pub struct BreakerPermit {
    breakers: Breakers,
    provider: String,
    permit: Option<Permit>,
}

impl BreakerPermit {
    /// A half-open trial: its failure says the provider is still down, not that the call was bad.
    pub fn is_trial(&self) -> bool {
        self.permit.as_ref().is_some_and(|p| p.trial)
    }

    pub fn report(mut self, outcome: CallOutcome) {
        if let Some(p) = self.permit.take() {
            self.breakers
                .with(&self.provider, |b| b.report(p, outcome, Instant::now()));
        }
    }
}

impl Drop for BreakerPermit {
    fn drop(&mut self) {
        if let Some(p) = self.permit.take() {
            self.breakers.with(&self.provider, |b| {
                b.report(p, CallOutcome::NotCounted, Instant::now())
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> BreakerConfig {
        BreakerConfig {
            cool_down: Duration::from_secs(30),
            ..BreakerConfig::default()
        }
    }

    fn call(b: &mut CircuitBreaker, outcome: CallOutcome, now: Instant) {
        let p = b.acquire(now).expect("permit");
        b.report(p, outcome, now);
    }

    #[test]
    fn opens_after_consecutive_temporary_failures() {
        let now = Instant::now();
        let mut b = CircuitBreaker::new(cfg());
        for _ in 0..4 {
            call(&mut b, CallOutcome::TemporaryFailure, now);
        }
        assert_eq!(b.state(), BreakerState::Closed);
        call(&mut b, CallOutcome::TemporaryFailure, now);
        assert!(matches!(b.state(), BreakerState::Open { .. }));
        assert!(b.acquire(now + Duration::from_secs(29)).is_err());
    }

    #[test]
    fn failed_trials_double_the_open_time_up_to_the_cap_and_closing_resets_it() {
        let mut now = Instant::now();
        let mut b = CircuitBreaker::new(BreakerConfig {
            cool_down: Duration::from_secs(30),
            max_cool_down: Duration::from_secs(100),
            ..BreakerConfig::default()
        });
        for _ in 0..5 {
            call(&mut b, CallOutcome::TemporaryFailure, now);
        }
        let mut opens = Vec::new();
        for _ in 0..4 {
            let BreakerState::Open { until } = b.state() else {
                panic!("open expected")
            };
            opens.push(until - now);
            now = until;
            call(&mut b, CallOutcome::TemporaryFailure, now);
        }
        let secs: Vec<u64> = opens.iter().map(Duration::as_secs).collect();
        assert_eq!(secs, vec![30, 60, 100, 100]);
        let BreakerState::Open { until } = b.state() else {
            panic!("open expected")
        };
        now = until;
        call(&mut b, CallOutcome::Success, now);
        call(&mut b, CallOutcome::Success, now);
        assert_eq!(b.state(), BreakerState::Closed);
        for _ in 0..5 {
            call(&mut b, CallOutcome::TemporaryFailure, now);
        }
        assert_eq!(
            b.state(),
            BreakerState::Open {
                until: now + Duration::from_secs(30)
            }
        );
    }

    #[test]
    fn opens_on_failure_rate_only_with_enough_calls() {
        let now = Instant::now();
        let mut b = CircuitBreaker::new(cfg());
        // Alternating: never 5 in a row, 50 % failures.
        for i in 0..9 {
            let o = if i % 2 == 0 {
                CallOutcome::TemporaryFailure
            } else {
                CallOutcome::Success
            };
            call(&mut b, o, now);
        }
        assert_eq!(
            b.state(),
            BreakerState::Closed,
            "9 calls are below the minimum of 10"
        );
        call(&mut b, CallOutcome::Success, now);
        call(&mut b, CallOutcome::TemporaryFailure, now);
        assert!(
            matches!(b.state(), BreakerState::Open { .. }),
            "6 of the last 11 failed"
        );
    }

    #[test]
    fn permanent_errors_do_not_count() {
        let now = Instant::now();
        let mut b = CircuitBreaker::new(cfg());
        for _ in 0..30 {
            call(&mut b, CallOutcome::NotCounted, now);
        }
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[test]
    fn half_open_trials_close_or_reopen() {
        let t0 = Instant::now();
        let mut b = CircuitBreaker::new(cfg());
        for _ in 0..5 {
            call(&mut b, CallOutcome::TemporaryFailure, t0);
        }
        let t1 = t0 + Duration::from_secs(31);
        let p1 = b.acquire(t1).expect("first trial");
        let p2 = b.acquire(t1).expect("second trial");
        assert!(b.acquire(t1).is_err(), "only two trials while half-open");
        b.report(p1, CallOutcome::Success, t1);
        assert!(matches!(b.state(), BreakerState::HalfOpen { .. }));
        b.report(p2, CallOutcome::TemporaryFailure, t1);
        assert!(
            matches!(b.state(), BreakerState::Open { .. }),
            "a failed trial reopens"
        );
        // A failed trial doubles the open time (30 s → 60 s).
        assert!(b.acquire(t1 + Duration::from_secs(31)).is_err());
        let t2 = t1 + Duration::from_secs(61);
        call(&mut b, CallOutcome::Success, t2);
        call(&mut b, CallOutcome::Success, t2);
        assert_eq!(b.state(), BreakerState::Closed);
        // Closing forgets the old window: one failure does not reopen.
        call(&mut b, CallOutcome::TemporaryFailure, t2);
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[test]
    fn cancelled_trial_frees_its_slot() {
        let breakers = Breakers::new(BreakerConfig {
            cool_down: Duration::ZERO,
            half_open_trials: 1,
            ..cfg()
        });
        for _ in 0..5 {
            breakers
                .acquire("p")
                .expect("closed")
                .report(CallOutcome::TemporaryFailure);
        }
        let trial = breakers.acquire("p").expect("half-open trial");
        assert!(breakers.acquire("p").is_err());
        drop(trial);
        breakers
            .acquire("p")
            .expect("slot freed")
            .report(CallOutcome::Success);
        assert_eq!(breakers.state("p"), BreakerState::Closed);
    }
}
