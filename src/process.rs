//! CPU and memory of this process from `/proc/self` (Linux). Elsewhere the figures are absent, never
//! invented: the dashboard shows "–".

use std::time::Instant;

/// Clock ticks per second of `/proc/<pid>/stat` times. Linux has reported 100 (USER_HZ) to user space on
/// every mainstream architecture for decades; reading it via `sysconf` would need libc for one number.
const TICKS_PER_SEC: f64 = 100.0;

/// Remembers the previous CPU reading so each sample reports the usage since the last one.
#[derive(Debug, Default)]
pub struct CpuMeter {
    last: Option<(Instant, u64)>,
}

impl CpuMeter {
    /// Percent of one core used since the previous call (`None` on the first call or off Linux).
    pub fn sample(&mut self) -> Option<f64> {
        let ticks = cpu_ticks()?;
        let now = Instant::now();
        let previous = self.last.replace((now, ticks));
        let (then, before) = previous?;
        let secs = now.duration_since(then).as_secs_f64();
        if secs <= 0.0 {
            return None;
        }
        Some((ticks.saturating_sub(before) as f64 / TICKS_PER_SEC) / secs * 100.0)
    }
}

/// utime + stime of this process, in clock ticks.
fn cpu_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    parse_stat_ticks(&stat)
}

/// Fields 14 and 15 of `/proc/<pid>/stat`; the command name (field 2) may hold spaces and parentheses,
/// so counting starts after its last `)`.
fn parse_stat_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state), so field n is at index n - 3.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Resident memory of this process in bytes (`VmRSS` of `/proc/self/status`).
pub fn memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_vmrss(&status)
}

fn parse_vmrss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_odd_command_names() {
        let stat = "1234 (my (odd) cmd) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 8 0";
        assert_eq!(parse_stat_ticks(stat), Some(300));
    }

    #[test]
    fn parses_vmrss() {
        let status = "Name:\tbuko\nVmPeak:\t  9000 kB\nVmRSS:\t   2048 kB\n";
        assert_eq!(parse_vmrss(status), Some(2048 * 1024));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn reads_this_process() {
        assert!(memory_bytes().is_some_and(|m| m > 0));
        let mut meter = CpuMeter::default();
        assert_eq!(meter.sample(), None);
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(meter.sample().is_some_and(|p| p >= 0.0));
    }
}
