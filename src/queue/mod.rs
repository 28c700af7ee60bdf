//! Durable jobs in the database: three queues (architecture > book > email by priority), attempts with
//! backoff, `run_at`, leases renewed by heartbeat with fencing tokens, a sweeper for expired leases,
//! and a `unique_key` so one book never has two active generations. The `jobs` table's queries are in
//! `db::repo::jobs`; this module runs workers over them;
//! what a job *does* is a [`JobHandler`] registered by the application.

pub mod handler;
pub mod pool;
pub mod settings;

// The queue's SQL lives in `db::repo::jobs`; these paths stay for the workers and tests.
pub use crate::db::repo::jobs;
pub use crate::db::repo::jobs::{claim, listener, sweep};

pub use claim::{backoff, claim, complete, fail, renew, retry_later, ClaimedJob, Failed, JobLease};
pub use handler::{handler_fn, JobHandler, JobHandlers, JobOutcome, LeaseHandle};
pub use jobs::{enqueue, Enqueued, JobPayload, NewJob, QueueName};
pub use listener::Wakeup;
pub use pool::{SlotGroup, WorkerPool};
pub use settings::{QueueLimits, QueueSettings, QueueSettingsError};
pub use sweep::{sweep, Swept};
