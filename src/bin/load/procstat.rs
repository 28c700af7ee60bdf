//! CPU and memory of processes from `/proc` (Linux): utime + stime from `/proc/<pid>/stat`, `VmRSS` and
//! `VmHWM` from `/proc/<pid>/status`, and per-thread CPU from `/proc/<pid>/task/*/stat` (the cheap
//! profile: which thread pools burn the CPU). Clock ticks are assumed to be 100 per second (`CLK_TCK`
//! on Linux x86-64 and arm64).

use std::collections::BTreeMap;
use std::time::Instant;

pub const TICKS_PER_SEC: f64 = 100.0;

#[derive(Clone, Debug)]
pub struct ProcSample {
    pub at: Instant,
    pub cpu_ticks: u64,
    pub rss_kib: u64,
    pub hwm_kib: u64,
}

fn ticks_of_stat(stat: &str) -> Option<u64> {
    // Fields after the ")" closing the command name: state is field 3, utime 14, stime 15.
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

fn status_kib(status: &str, field: &str) -> u64 {
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

pub fn sample(pid: u32) -> Option<ProcSample> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    Some(ProcSample {
        at: Instant::now(),
        cpu_ticks: ticks_of_stat(&stat)?,
        rss_kib: status_kib(&status, "VmRSS:"),
        hwm_kib: status_kib(&status, "VmHWM:"),
    })
}

/// CPU ticks per thread name (threads of one pool share a name, e.g. `actix-rt|system`).
pub fn threads(pid: u32) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return out;
    };
    for entry in dir.flatten() {
        let path = entry.path();
        let comm = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        let stat = std::fs::read_to_string(path.join("stat")).unwrap_or_default();
        if let Some(t) = ticks_of_stat(&stat) {
            *out.entry(comm.trim().to_string()).or_default() += t;
        }
    }
    out
}

/// Share of one core used between two samples (1.0 = one core busy).
pub fn cores(a: &ProcSample, b: &ProcSample) -> f64 {
    let secs = b.at.duration_since(a.at).as_secs_f64();
    if secs <= 0.0 {
        return 0.0;
    }
    (b.cpu_ticks.saturating_sub(a.cpu_ticks)) as f64 / TICKS_PER_SEC / secs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_own_process() {
        let s = sample(std::process::id()).expect("own /proc entry");
        assert!(s.rss_kib > 0);
        assert!(!threads(std::process::id()).is_empty());
    }

    #[test]
    fn command_names_with_spaces_and_parens() {
        let stat = "42 (a (b) c) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14";
        assert_eq!(ticks_of_stat(stat), Some(11 + 12));
    }
}
