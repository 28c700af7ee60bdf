//! What the machine gives this process (Linux): open-file limit and use, free disk under the data
//! directory, the memory and CPU limits of its container (cgroup v2, then v1, then the host), CPU time
//! and resident memory. Read by `buko doctor` and sampled as gauges at `/metrics` scrape time, so the
//! alert rules can speak in percentages of the real limits. Absent figures are absent, never invented.

use std::path::Path;

/// (soft, hard) open-file limit (`Max open files` of `/proc/self/limits`; "unlimited" as `u64::MAX`).
pub fn open_file_limit() -> Option<(u64, u64)> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    parse_nofile(&limits)
}

fn parse_nofile(limits: &str) -> Option<(u64, u64)> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let mut f = line["Max open files".len()..].split_whitespace();
    let value = |v: &str| {
        if v == "unlimited" {
            Some(u64::MAX)
        } else {
            v.parse().ok()
        }
    };
    Some((value(f.next()?)?, value(f.next()?)?))
}

/// File descriptors this process has open.
pub fn open_fds() -> Option<u64> {
    Some(std::fs::read_dir("/proc/self/fd").ok()?.count() as u64)
}

/// (free for unprivileged users, total) bytes of the file system holding `path`.
pub fn disk_space(path: &Path) -> Option<(u64, u64)> {
    let s = rustix::fs::statvfs(path).ok()?;
    Some((s.f_bavail * s.f_frsize, s.f_blocks * s.f_frsize))
}

/// The memory this process may use: the container's limit, else the host's memory.
pub fn memory_limit_bytes() -> Option<u64> {
    let cgroup = read_trim("/sys/fs/cgroup/memory.max")
        .or_else(|| read_trim("/sys/fs/cgroup/memory/memory.limit_in_bytes"))
        .and_then(|v| v.parse::<u64>().ok())
        // v1 reports "no limit" as a huge number.
        .filter(|v| *v < (1 << 60));
    cgroup.or_else(|| {
        let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
        let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
        Some(line.split_whitespace().nth(1)?.parse::<u64>().ok()? * 1024)
    })
}

/// CPU cores this process may use: the container's quota, else the visible CPUs.
pub fn cpu_limit_cores() -> f64 {
    let quota = read_trim("/sys/fs/cgroup/cpu.max").and_then(|v| {
        let (q, p) = v.split_once(' ')?;
        Some(q.parse::<f64>().ok()? / p.parse::<f64>().ok()?)
    });
    quota.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()) as f64)
}

/// CPU seconds (user + system) this process has used.
pub fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

fn read_trim(path: &str) -> Option<String> {
    Some(std::fs::read_to_string(path).ok()?.trim().to_string())
}

/// Sets the process gauges (called at `/metrics` scrape time).
pub fn sample_process_gauges(data_dir: &Path) {
    if let Some(s) = cpu_seconds() {
        metrics::gauge!("buko_process_cpu_seconds").set(s);
    }
    metrics::gauge!("buko_cpu_limit_cores").set(cpu_limit_cores());
    if let Some(m) = crate::process::memory_bytes() {
        metrics::gauge!("buko_process_resident_memory_bytes").set(m as f64);
    }
    if let Some(m) = memory_limit_bytes() {
        metrics::gauge!("buko_memory_limit_bytes").set(m as f64);
    }
    if let Some(n) = open_fds() {
        metrics::gauge!("buko_process_open_fds").set(n as f64);
    }
    if let Some((soft, _)) = open_file_limit() {
        metrics::gauge!("buko_process_max_fds").set(soft as f64);
    }
    if let Some((free, total)) = disk_space(data_dir) {
        metrics::gauge!("buko_data_dir_free_bytes").set(free as f64);
        metrics::gauge!("buko_data_dir_size_bytes").set(total as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_open_file_limit() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max processes             63458                63458                processes\n\
                      Max open files            1024                 524288               files\n";
        assert_eq!(parse_nofile(limits), Some((1024, 524288)));
        let unlimited =
            "Max open files            unlimited            unlimited            files\n";
        assert_eq!(parse_nofile(unlimited), Some((u64::MAX, u64::MAX)));
    }

    #[test]
    fn reads_this_machine() {
        let (soft, hard) = open_file_limit().expect("rlimit");
        assert!(soft > 0 && soft <= hard);
        assert!(open_fds().is_some_and(|n| n > 0));
        let (free, total) = disk_space(Path::new("/")).expect("statvfs");
        assert!(total > 0 && free <= total);
        assert!(memory_limit_bytes().is_some_and(|m| m > 0));
        assert!(cpu_limit_cores() > 0.0);
        assert!(cpu_seconds().is_some());
    }
}
