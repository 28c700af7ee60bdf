//! Operator features that are not HTTP: the dashboard's figures and their sampler, process CPU and
//! memory, and the node-wide state they keep (peak of online users, the last CPU reading). Handlers
//! live in `web::admin`; queries in `db::repo::admin`.

pub mod control;
pub mod process;
pub mod stats;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Per-node admin state held in `AppState::admin`.
#[derive(Debug)]
pub struct AdminState {
    /// Names this node in dashboard samples (host name and a random suffix).
    pub node: String,
    peak_online: AtomicUsize,
    cpu: Mutex<process::CpuMeter>,
}

impl AdminState {
    pub fn new() -> AdminState {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|_| "node".into());
        let suffix = &crate::db::new_id()[..8];
        AdminState {
            node: format!("{host}-{suffix}"),
            peak_online: AtomicUsize::new(0),
            cpu: Mutex::new(process::CpuMeter::default()),
        }
    }

    /// Records the current number of online users; returns the peak since the node started.
    pub fn record_online(&self, now: usize) -> usize {
        self.peak_online.fetch_max(now, Ordering::Relaxed).max(now)
    }

    pub fn cpu_sample(&self) -> Option<f64> {
        self.cpu.lock().unwrap_or_else(|p| p.into_inner()).sample()
    }
}

impl Default for AdminState {
    fn default() -> Self {
        Self::new()
    }
}
