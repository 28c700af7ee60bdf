//! The server processes under test (`--server-pid`): samples at the marks of the run, turned into the
//! per-node figures of the report.

use std::collections::BTreeMap;

use super::procstat::{self, ProcSample, TICKS_PER_SEC};
use super::report::NodeFigures;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    /// After setup, before the first WebSocket.
    Base,
    /// Every WebSocket open, before the books are approved.
    HoldStart,
    /// 15 s into the hold: the books are writing (growth is measured from here).
    HoldEarly,
    HoldEnd,
}

#[derive(Default)]
pub struct Node {
    pub pid: u32,
    pub target: String,
    samples: BTreeMap<u8, ProcSample>,
    threads_start: BTreeMap<String, u64>,
    threads_end: BTreeMap<String, u64>,
}

impl Node {
    pub fn new(pid: u32, target: String) -> Node {
        Node {
            pid,
            target,
            ..Node::default()
        }
    }

    pub fn mark(&mut self, m: Mark) {
        if let Some(s) = procstat::sample(self.pid) {
            self.samples.insert(m as u8, s);
        }
        match m {
            Mark::HoldStart => self.threads_start = procstat::threads(self.pid),
            Mark::HoldEnd => self.threads_end = procstat::threads(self.pid),
            _ => {}
        }
    }

    fn get(&self, m: Mark) -> Option<&ProcSample> {
        self.samples.get(&(m as u8))
    }

    pub fn figures(&self, conns: usize) -> NodeFigures {
        let mib = |m: Mark| self.get(m).map_or(0.0, |s| s.rss_kib as f64 / 1024.0);
        let (start, end) = (self.get(Mark::HoldStart), self.get(Mark::HoldEnd));
        let cpu = match (start, end) {
            (Some(a), Some(b)) => procstat::cores(a, b),
            _ => 0.0,
        };
        let secs = match (start, end) {
            (Some(a), Some(b)) => b.at.duration_since(a.at).as_secs_f64().max(1e-9),
            _ => 1.0,
        };
        let mut threads: Vec<(String, f64)> = self
            .threads_end
            .iter()
            .map(|(k, v)| {
                let before = self.threads_start.get(k).copied().unwrap_or(0);
                (
                    k.clone(),
                    v.saturating_sub(before) as f64 / TICKS_PER_SEC / secs,
                )
            })
            .collect();
        threads.sort_by(|a, b| b.1.total_cmp(&a.1));
        let per_conn = |m: Mark| {
            if conns == 0 {
                0.0
            } else {
                (mib(m) - mib(Mark::Base)) * 1024.0 / conns as f64
            }
        };
        NodeFigures {
            target: self.target.clone(),
            pid: self.pid,
            conns,
            cpu_cores_hold: cpu,
            rss_base_mib: mib(Mark::Base),
            rss_hold_start_mib: mib(Mark::HoldStart),
            rss_hold_early_mib: mib(Mark::HoldEarly),
            rss_hold_end_mib: mib(Mark::HoldEnd),
            peak_mib: end.map_or(0.0, |s| s.hwm_kib as f64 / 1024.0),
            kib_per_conn: per_conn(Mark::HoldStart),
            kib_per_conn_end: per_conn(Mark::HoldEnd),
            growth_mib: mib(Mark::HoldEnd) - mib(Mark::HoldEarly),
            threads,
        }
    }
}
