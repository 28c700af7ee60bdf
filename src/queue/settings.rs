//! Worker settings read from the environment: lease and heartbeat, sweeper period, idle polling, and per
//! queue the concurrency and soft / hard time limits. Documented in README ("Job queue").

use std::collections::HashMap;
use std::time::Duration;

use super::QueueName;

/// Concurrency and time limits of one queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueLimits {
    /// Slots on this node (`BUKO_WORKERS_<QUEUE>`; 0 disables the queue on this node).
    pub concurrency: usize,
    /// Past this the job is logged as slow and its `LeaseHandle` says so (`BUKO_JOB_SOFT_LIMIT_<QUEUE>_SECS`).
    pub soft_limit: Duration,
    /// Past this the job is abandoned and counted as a failed attempt (`BUKO_JOB_HARD_LIMIT_<QUEUE>_SECS`).
    pub hard_limit: Duration,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueSettings {
    /// `BUKO_JOB_LEASE_SECS` (default 15): how long a claim lasts without a heartbeat.
    pub lease: Duration,
    /// `BUKO_JOB_HEARTBEAT_SECS` (default 5): how often a running job renews its lease.
    pub heartbeat: Duration,
    /// `BUKO_JOB_SWEEP_SECS` (default 5): how often each node returns expired leases to the queue.
    pub sweep_every: Duration,
    /// `BUKO_JOB_POLL_MS` (default 1000): the idle slot whose turn it is re-checks its queue this often
    /// (PostgreSQL also wakes it at once by NOTIFY; SQLite relies on the poll and on local enqueues).
    pub poll: Duration,
    pub queues: HashMap<QueueName, QueueLimits>,
}

impl Default for QueueSettings {
    fn default() -> Self {
        let limits = |concurrency, soft, hard| QueueLimits {
            concurrency,
            soft_limit: Duration::from_secs(soft),
            hard_limit: Duration::from_secs(hard),
        };
        QueueSettings {
            lease: Duration::from_secs(15),
            heartbeat: Duration::from_secs(5),
            sweep_every: Duration::from_secs(5),
            poll: Duration::from_millis(1000),
            queues: HashMap::from([
                (QueueName::Architecture, limits(4, 120, 600)),
                (QueueName::Book, limits(50, 3600, 6 * 3600)),
                (QueueName::Email, limits(2, 30, 120)),
                (QueueName::Billing, limits(2, 30, 120)),
                (QueueName::Cover, limits(2, 120, 600)),
            ]),
        }
    }
}

/// A malformed worker setting.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum QueueSettingsError {
    #[error("{name}={value:?} is not a whole number")]
    NotANumber { name: String, value: String },
    #[error("BUKO_JOB_HEARTBEAT_SECS must be shorter than BUKO_JOB_LEASE_SECS")]
    HeartbeatNotShorterThanLease,
}

impl QueueSettings {
    /// The defaults overridden by the environment; `Err` names the malformed variable.
    pub fn from_env() -> Result<QueueSettings, QueueSettingsError> {
        let mut s = QueueSettings::default();
        s.lease = secs("BUKO_JOB_LEASE_SECS", s.lease)?;
        s.heartbeat = secs("BUKO_JOB_HEARTBEAT_SECS", s.heartbeat)?;
        s.sweep_every = secs("BUKO_JOB_SWEEP_SECS", s.sweep_every)?;
        if let Some(ms) = num("BUKO_JOB_POLL_MS")? {
            s.poll = Duration::from_millis(ms);
        }
        for (q, l) in s.queues.iter_mut() {
            let name = q.as_str().to_ascii_uppercase();
            if let Some(n) = num(&format!("BUKO_WORKERS_{name}"))? {
                l.concurrency = n as usize;
            }
            l.soft_limit = secs(&format!("BUKO_JOB_SOFT_LIMIT_{name}_SECS"), l.soft_limit)?;
            l.hard_limit = secs(&format!("BUKO_JOB_HARD_LIMIT_{name}_SECS"), l.hard_limit)?;
        }
        if s.heartbeat >= s.lease {
            return Err(QueueSettingsError::HeartbeatNotShorterThanLease);
        }
        Ok(s)
    }

    pub fn limits(&self, queue: QueueName) -> QueueLimits {
        self.queues.get(&queue).copied().unwrap_or(QueueLimits {
            concurrency: 1,
            soft_limit: Duration::from_secs(600),
            hard_limit: Duration::from_secs(3600),
        })
    }
}

fn num(name: &str) -> Result<Option<u64>, QueueSettingsError> {
    match std::env::var(name).ok().filter(|v| !v.trim().is_empty()) {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| QueueSettingsError::NotANumber {
                name: name.to_string(),
                value: v,
            }),
    }
}

fn secs(name: &str, default: Duration) -> Result<Duration, QueueSettingsError> {
    Ok(num(name)?.map_or(default, Duration::from_secs))
}
