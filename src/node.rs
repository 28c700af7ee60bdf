//! Per-node operator state (node name, peak of online users, CPU meter) held in `AppState::admin`;
//! apart from `admin` so the state can hold it without importing the admin features.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Per-node admin state held in `AppState::admin`.
#[derive(Debug)]
pub struct AdminState {
    /// Names this node in dashboard samples (host name and a random suffix).
    pub node: String,
    peak_online: AtomicUsize,
    cpu: Mutex<crate::process::CpuMeter>,
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
            cpu: Mutex::new(crate::process::CpuMeter::default()),
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
