//! Durable jobs in the database: three queues (architecture > book > email by priority), attempts with
//! backoff, `run_at`, leases renewed by heartbeat, and a `unique_key` so one book never has two active
//! generations. This module owns the `jobs` table.

pub mod jobs;

pub use jobs::{enqueue, Enqueued, JobPayload, NewJob, QueueName};
