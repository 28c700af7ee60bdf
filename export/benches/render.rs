//! Export benchmark: renders the 60-chapter (~300-page, ~80,000-word) Spanish
//! book to each format and prints the median wall time and the peak memory.
//!
//! Run: `cargo bench -p buko-export --bench render` (release profile).
//!
//! Each format runs in a fresh child process (this same binary with
//! `--child FORMAT`) so its peak RSS (`VmHWM` in /proc/self/status) is its own
//! and not the high-water mark of a previous format. The child reports the
//! first (cold: font parsing, library set-up) run separately from the median
//! of the following runs.

use std::process::Command;
use std::time::{Duration, Instant};

use buko_export::{render, Format, Language};

#[path = "../tests/export/fixtures.rs"]
#[allow(dead_code)]
mod fixtures;

const RUNS: usize = 7;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let format = args
            .get(i + 1)
            .and_then(|f| Format::from_ext(f))
            .expect("--child FORMAT");
        child(format);
        return;
    }
    let exe = std::env::current_exe().expect("current exe");
    println!("buko-export render benchmark: 60 chapters, Spanish, {RUNS} runs per format");
    // Other work on the machine moves these figures a lot: say how busy it was.
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("cores: {}, load average at start: {}", cores(), load.trim());
    println!(
        "{:<9} {:>10} {:>12} {:>12} {:>13} {:>13} {:>11}",
        "format", "cold", "median", "other book", "peak RSS", "RSS growth", "size"
    );
    for format in Format::ALL {
        let out = Command::new(&exe)
            .args(["--child", format.extension()])
            .output()
            .expect("spawn child");
        assert!(
            out.status.success(),
            "child failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        print!("{}", String::from_utf8_lossy(&out.stdout));
    }
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn child(format: Format) {
    let doc = fixtures::long_book(Language::Es);
    let words: usize = doc
        .chapters
        .iter()
        .map(|c| c.text.split_whitespace().count())
        .sum();
    if std::env::var_os("BUKO_BENCH_WARM_UP").is_some() {
        buko_export::warm_up().expect("warm up");
    }
    let baseline = vm_kib("VmHWM");
    let mut times: Vec<Duration> = Vec::with_capacity(RUNS);
    let mut size = 0;
    for _ in 0..RUNS {
        let start = Instant::now();
        let bytes = render(&doc, format).expect("render");
        times.push(start.elapsed());
        size = bytes.len();
    }
    let peak = vm_kib("VmHWM");
    // A different book after the warm runs: shows whether the median owes
    // anything to caches kept from rendering the same book again.
    let other = fixtures::long_book(Language::En);
    let start = Instant::now();
    render(&other, format).expect("render other book");
    let other_time = start.elapsed();
    let cold = times.remove(0);
    times.sort();
    let median = times[times.len() / 2];
    println!(
        "{:<9} {:>8.0}ms {:>10.0}ms {:>10.0}ms {:>9.1} MiB {:>9.1} MiB {:>7.0} KiB   ({words} words)",
        format.extension(),
        cold.as_secs_f64() * 1e3,
        median.as_secs_f64() * 1e3,
        other_time.as_secs_f64() * 1e3,
        peak as f64 / 1024.0,
        peak.saturating_sub(baseline) as f64 / 1024.0,
        size as f64 / 1024.0,
    );
}

/// A `Vm*` line of /proc/self/status, in KiB (0 where /proc is missing).
fn vm_kib(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(key)?.strip_prefix(':').map(str::to_owned))
        })
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
