//! Live counters shared by every load thread, for the progress line printed while the run goes on.

use std::sync::atomic::{AtomicI64, AtomicU64};

#[derive(Debug, Default)]
pub struct Live {
    pub open: AtomicI64,
    pub unexpected: AtomicU64,
    pub frames: AtomicU64,
    pub requests: AtomicU64,
    pub request_errors: AtomicU64,
}
