//! Whether this node is draining (set on SIGTERM by `shutdown`, read by `/health/ready` and the job
//! workers). Apart from `shutdown` so the node's state can hold it without importing the drain.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Whether this node is draining (read by `/health/ready`).
#[derive(Clone, Debug, Default)]
pub struct Lifecycle {
    draining: Arc<AtomicBool>,
}

impl Lifecycle {
    pub fn draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }
}
