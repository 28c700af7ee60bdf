//! Every tunable of the engine in one typed struct with production defaults. Tests shrink the
//! durations; nothing else in the crate hard-codes a timeout, a limit or a ratio.

use std::time::Duration;

/// Full-jitter exponential backoff parameters (`random(0, min(cap, base·2^n))`, at least `retry_after`).
#[derive(Clone, Debug, PartialEq)]
pub struct RetryConfig {
    pub base: Duration,
    pub cap: Duration,
    /// LLM attempts per chunk (or per summary / architecture call) before giving up.
    pub max_attempts: u32,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            base: Duration::from_millis(500),
            cap: Duration::from_secs(60),
            max_attempts: 8,
        }
    }
}

/// Circuit breaker thresholds (one breaker per provider).
#[derive(Clone, Debug, PartialEq)]
pub struct BreakerConfig {
    /// Outcomes remembered.
    pub window: usize,
    /// Fewest outcomes in the window before the failure rate is judged.
    pub min_calls: usize,
    /// Open when failures / window ≥ this.
    pub failure_rate: f64,
    /// Open after this many temporary failures in a row, whatever the window says.
    pub consecutive_failures: u32,
    /// Open time after the breaker trips from closed.
    pub cool_down: Duration,
    /// Each failed half-open trial doubles the open time, up to this: a long outage is probed a few
    /// times a minute, not hammered.
    pub max_cool_down: Duration,
    /// Calls let through while half-open; all must succeed to close.
    pub half_open_trials: u32,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            window: 20,
            min_calls: 10,
            failure_rate: 0.5,
            consecutive_failures: 5,
            cool_down: Duration::from_secs(30),
            max_cool_down: Duration::from_secs(5 * 60),
            half_open_trials: 2,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct EngineConfig {
    pub retry: RetryConfig,
    pub breaker: BreakerConfig,
    /// Retries of a store call that answered `Unavailable` (same backoff shape as `retry`).
    pub store_retry: RetryConfig,
    /// No delta for this long aborts the stream as `Temporary{Stalled}`.
    pub stall_timeout: Duration,
    /// One chunk attempt (continuations included) may not take longer.
    pub chunk_timeout: Duration,
    /// Delta coalescing period of the broadcaster.
    pub coalesce: Duration,
    /// Words one output token carries on average (English ≈ 0.75).
    pub words_per_token: f64,
    /// Fraction of a response's token limit left unplanned, so a chunk rarely hits `max_tokens`.
    pub safety_margin: f64,
    /// Chars of the previous chunk's end quoted in the next prompt.
    pub tail_chars: usize,
    /// Upper bound of the rolling summary kept between chapters.
    pub summary_chars: usize,
    /// Chars of a finished chapter one summary call reads; a longer chapter is read in parts of this
    /// size, each turned into a note, and the notes make the summary.
    pub summary_source_chars: usize,
    /// Chars of the bible quoted in a prompt.
    pub bible_chars: usize,
    /// Chars of the story ledger (`bible.learned`) quoted in a prompt.
    pub ledger_chars: usize,
    /// Chars of a chapter one continuity-audit call reads (a longer chapter is audited in parts).
    pub audit_source_chars: usize,
    /// Most findings kept from one audit call (the most severe first).
    pub audit_max_findings: usize,
    /// `max_tokens` continuations of one chunk before the attempt counts as failed.
    pub max_continuations: u32,
    /// Continuation requests that extend a chunk which ended under 85 % of its word budget.
    pub length_extensions: u32,
    /// Orchestrator restarts after a crash, per StartBook, before the book fails.
    pub max_restarts: u32,
    pub restart_backoff: Duration,
    /// How often a book waiting for an open breaker asks again (never later than the breaker reopens).
    pub breaker_poll: Duration,
    /// While the breaker is open, end the run with [`crate::BookOutcome::WaitingForProvider`] (the
    /// job queue schedules it again for when the breaker lets a trial through) instead of waiting in
    /// the run. The application sets it; the engine alone waits in place (nothing would restart it).
    pub yield_while_breaker_open: bool,
    /// Architecture calls that returned unusable JSON, retried with the error fed back.
    pub architecture_repairs: u32,
    /// How often the node's supervisor reads the control flags of every book it runs (one store call
    /// for all of them), so a pause or cancel given on another node (without a bus) stops the stream
    /// within this delay.
    /// Zero: only between chunks (a direct `StopBook` still acts at once).
    pub control_poll: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            retry: RetryConfig::default(),
            breaker: BreakerConfig::default(),
            store_retry: RetryConfig {
                base: Duration::from_millis(200),
                cap: Duration::from_secs(10),
                max_attempts: 10,
            },
            stall_timeout: Duration::from_secs(60),
            chunk_timeout: Duration::from_secs(15 * 60),
            coalesce: Duration::from_millis(100),
            words_per_token: 0.75,
            safety_margin: 0.2,
            tail_chars: 1_500,
            summary_chars: 2_400,
            summary_source_chars: 12_000,
            bible_chars: 4_000,
            ledger_chars: 2_000,
            audit_source_chars: 40_000,
            audit_max_findings: 8,
            max_continuations: 4,
            length_extensions: 3,
            max_restarts: 5,
            restart_backoff: Duration::from_millis(500),
            breaker_poll: Duration::from_secs(5),
            yield_while_breaker_open: false,
            architecture_repairs: 2,
            control_poll: Duration::from_millis(500),
        }
    }
}
