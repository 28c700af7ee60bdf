//! The result table (Markdown, to paste into docs/PERFORMANCE.md), the threshold checks of issue 9, and
//! the same figures as JSON.

use std::fmt::Write as _;

use serde_json::json;

use super::books::{Approvals, Verification};
use super::browse::HttpStats;
use super::delivery::Delivery;
use super::hist::Histogram;
use super::ws::WsStats;

/// One server process over the run.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct NodeFigures {
    pub target: String,
    pub pid: u32,
    pub conns: usize,
    pub cpu_cores_hold: f64,
    pub rss_base_mib: f64,
    pub rss_hold_start_mib: f64,
    pub rss_hold_early_mib: f64,
    pub rss_hold_end_mib: f64,
    pub peak_mib: f64,
    pub kib_per_conn: f64,
    /// (RSS at the end of the hold − base) / connections: adds the writing books' and traffic's memory.
    pub kib_per_conn_end: f64,
    pub growth_mib: f64,
    /// Thread pools by CPU over the hold (cores).
    pub threads: Vec<(String, f64)>,
}

pub struct Report {
    pub setup: String,
    pub ws: WsStats,
    pub planned_conns: usize,
    pub peak_open: i64,
    pub open_at_hold_end: i64,
    pub delivery: Delivery,
    pub http: HttpStats,
    pub rate_target: f64,
    pub nodes: Vec<NodeFigures>,
    pub load_cores: f64,
    pub books: Verification,
    pub approvals: Approvals,
    pub max_kib_per_conn: f64,
    pub max_growth_mib: f64,
    pub multi_node: bool,
}

fn row(h: &Histogram) -> String {
    let (p50, p95, p99) = h.ms();
    format!(
        "{} | {p50:.1} | {p95:.1} | {p99:.1} | {:.1}",
        h.count(),
        h.max() as f64 / 1000.0
    )
}

impl Report {
    pub fn frames_total(&self) -> u64 {
        self.ws.frames.values().sum()
    }

    pub fn markdown(&self) -> String {
        let mut s = String::new();
        let w = &self.ws;
        let _ = writeln!(s, "{}\n", self.setup);
        let _ = writeln!(s, "| WebSockets | |\n|---|---|");
        let _ = writeln!(
            s,
            "| planned / peak open / open at end of hold | {} / {} / {} |",
            self.planned_conns, self.peak_open, self.open_at_hold_end
        );
        let _ = writeln!(
            s,
            "| connects (incl. reconnects) / connect failures | {} / {} |",
            w.connects, w.connect_failures
        );
        let _ = writeln!(
            s,
            "| **unexpected disconnects** | **{}** |",
            w.unexpected_disconnects
        );
        let (c50, c95, c99) = w.connect_time.ms();
        let _ = writeln!(
            s,
            "| handshake p50 / p95 / p99 (ms) | {c50:.1} / {c95:.1} / {c99:.1} |"
        );
        let frames: Vec<String> = w.frames.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let _ = writeln!(
            s,
            "| messages delivered | {} ({}) |",
            self.frames_total(),
            frames.join(", ")
        );
        let d = &w.defects;
        let _ = writeln!(
            s,
            "| stream defects: event gaps / repeats, delta gaps / repeats | {} / {} / {} / {} |",
            d.event_gaps, d.event_repeats, d.delta_gaps, d.delta_repeats
        );
        let _ = writeln!(
            s,
            "| chunks checked against the stream / word mismatches, of them short (words streamed / committed in them) | {} / {}, {} short ({} / {}) |",
            d.chunks_checked, d.chunk_word_mismatches, d.chunk_streams_short, d.mismatch_words_streamed, d.mismatch_words_committed
        );
        if let Some(e) = &d.mismatch_example {
            let _ = writeln!(s, "| first word mismatch | {} |", e.replace('|', "\\|"));
        }
        for (k, v) in &w.disconnect_reasons {
            let _ = writeln!(s, "| close / failure reason: {k} | {v} |");
        }
        for (k, v) in &w.error_codes {
            let _ = writeln!(s, "| error frames `{k}` | {v} |");
        }
        let _ = writeln!(
            s,
            "\n| delivery (ms) | n | p50 | p95 | p99 | max |\n|---|---|---|---|---|---|"
        );
        let dl = &self.delivery;
        let _ = writeln!(
            s,
            "| event, writing node (arrival − `at`) | {} |",
            row(&dl.event_local)
        );
        let _ = writeln!(
            s,
            "| event, other node (arrival − `at`) | {} |",
            row(&dl.event_remote)
        );
        for (kind, (h, slow)) in &dl.local_by_kind {
            let _ = writeln!(
                s,
                "| event `{kind}`, writing node ({slow} over {} ms) | {} |",
                super::delivery::SLOW_US / 1000,
                row(h)
            );
        }
        let worst: Vec<String> = dl
            .worst_seconds(8)
            .iter()
            .map(|(sec, n)| format!("{sec} s: {n}"))
            .collect();
        if !worst.is_empty() {
            let _ = writeln!(
                s,
                "| seconds with the most writing-node events over {} ms (since the start) | {} |",
                super::delivery::SLOW_US / 1000,
                worst.join(", ")
            );
        }
        let _ = writeln!(
            s,
            "| delta spread, writing node | {} |",
            row(&dl.delta_spread_local)
        );
        let _ = writeln!(
            s,
            "| delta spread, other node | {} |",
            row(&dl.delta_spread_remote)
        );
        let secs = self.http.elapsed.as_secs_f64().max(1e-9);
        let _ = writeln!(s, "\n| HTTP route (ms) | ok | p50 | p95 | p99 | max | errors | req/s |\n|---|---|---|---|---|---|---|---|");
        let mut all = Histogram::default();
        let (mut ok, mut err) = (0, 0);
        for (name, r) in &self.http.routes {
            all.merge(&r.latency);
            ok += r.ok;
            err += r.errors;
            let statuses: Vec<String> = r
                .statuses
                .iter()
                .filter(|(k, _)| !k.starts_with('2'))
                .map(|(k, v)| format!("{k}×{v}"))
                .collect();
            let _ = writeln!(
                s,
                "| {name} | {} | {} {} | {:.0} |",
                row(&r.latency),
                r.errors,
                statuses.join(" "),
                (r.ok + r.errors) as f64 / secs
            );
        }
        let _ = writeln!(
            s,
            "| **all** | {} | {err} ({:.3} %) | {:.0} |",
            row(&all),
            self.error_pct(),
            (ok + err) as f64 / secs
        );
        let _ = writeln!(s, "\nTarget rate {:.0} req/s; scheduled {}, skipped (too many in flight) {}, started > 10 ms late {}.", self.rate_target, self.http.scheduled, self.http.skipped, self.http.late);
        let _ = writeln!(s, "\n| node | conns | CPU over hold (cores) | RSS base → hold start → +15 s → end (MiB) | peak | KiB / conn (hold start / end) | growth (MiB) |\n|---|---|---|---|---|---|---|");
        for n in &self.nodes {
            let _ = writeln!(s, "| {} (pid {}) | {} | {:.2} | {:.0} → {:.0} → {:.0} → {:.0} | {:.0} | {:.1} / {:.1} | {:.1} |", n.target, n.pid, n.conns, n.cpu_cores_hold, n.rss_base_mib, n.rss_hold_start_mib, n.rss_hold_early_mib, n.rss_hold_end_mib, n.peak_mib, n.kib_per_conn, n.kib_per_conn_end, n.growth_mib);
        }
        for n in &self.nodes {
            let t: Vec<String> = n
                .threads
                .iter()
                .take(6)
                .map(|(k, v)| format!("{k} {v:.2}"))
                .collect();
            let _ = writeln!(
                s,
                "\nThreads of pid {} by CPU over the hold (cores): {}.",
                n.pid,
                t.join(", ")
            );
        }
        let _ = writeln!(
            s,
            "\nLoad generator CPU over the hold: {:.2} cores.",
            self.load_cores
        );
        let b = &self.books;
        let _ = writeln!(s, "\n| books | |\n|---|---|");
        let _ = writeln!(
            s,
            "| completed / writing books | {} / {} (approvals refused: {}) |",
            b.completed, b.books, self.approvals.refused
        );
        for (k, v) in &self.approvals.retried {
            let _ = writeln!(s, "| approval answered {k}, retried | {v} |");
        }
        let nc: Vec<String> = b
            .not_completed
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let _ = writeln!(
            s,
            "| not completed | {} |",
            if nc.is_empty() {
                "none".into()
            } else {
                nc.join(", ")
            }
        );
        let _ = writeln!(
            s,
            "| chunks planned / completed | {} / {} |",
            b.chunks_planned, b.chunks_completed
        );
        let _ = writeln!(
            s,
            "| **chunks lost / duplicated** | **{} / {}** |",
            b.chunks_lost, b.chunks_duplicated
        );
        let _ = writeln!(
            s,
            "| books whose chapters' words ≠ book words | {} |",
            b.word_mismatches
        );
        for e in b.errors.iter().take(5) {
            let _ = writeln!(s, "| verification error | {e} |");
        }
        s
    }

    fn error_pct(&self) -> f64 {
        let (ok, err) = self
            .http
            .routes
            .values()
            .fold((0, 0), |(o, e), r| (o + r.ok, e + r.errors));
        if ok + err == 0 {
            return 0.0;
        }
        100.0 * err as f64 / (ok + err) as f64
    }

    /// Each threshold of issue 9 with its verdict.
    pub fn checks(&self) -> Vec<(String, bool)> {
        let mut c = Vec::new();
        let w = &self.ws;
        c.push((
            format!(
                "0 unexpected disconnects (got {})",
                w.unexpected_disconnects
            ),
            w.unexpected_disconnects == 0,
        ));
        c.push((
            format!(
                "all {} WebSockets open in the hold (peak {})",
                self.planned_conns, self.peak_open
            ),
            self.peak_open as usize >= self.planned_conns,
        ));
        let p99 = |h: &Histogram| h.quantile(0.99) as f64 / 1000.0;
        let l = p99(&self.delivery.event_local);
        c.push((
            format!("event delivery p99 ≤ 50 ms on the writing node (got {l:.1})"),
            self.delivery.event_local.count() > 0 && l <= 50.0,
        ));
        if self.multi_node {
            let r = p99(&self.delivery.event_remote);
            c.push((
                format!("event delivery p99 ≤ 150 ms across nodes (got {r:.1})"),
                self.delivery.event_remote.count() > 0 && r <= 150.0,
            ));
        }
        for (name, r) in &self.http.routes {
            let (_, p95, p99) = r.latency.ms();
            c.push((
                format!("{name}: p95 ≤ 50 ms (got {p95:.1}), p99 ≤ 200 ms (got {p99:.1})"),
                r.ok > 0 && p95 <= 50.0 && p99 <= 200.0,
            ));
        }
        let pct = self.error_pct();
        c.push((format!("HTTP errors < 0.1 % (got {pct:.3} %)"), pct < 0.1));
        let secs = self.http.elapsed.as_secs_f64().max(1e-9);
        let done = self
            .http
            .routes
            .values()
            .map(|r| r.ok + r.errors)
            .sum::<u64>() as f64
            / secs;
        c.push((
            format!(
                "HTTP rate ≥ 95 % of {:.0} req/s (got {done:.0})",
                self.rate_target
            ),
            done >= 0.95 * self.rate_target,
        ));
        let b = &self.books;
        c.push((
            format!("all books complete ({} / {})", b.completed, b.books),
            b.books > 0 && b.completed == b.books && self.approvals.refused == 0,
        ));
        let d = &w.defects;
        let lost = b.chunks_lost + b.chunks_duplicated + d.event_gaps + d.delta_gaps;
        c.push((
            format!(
                "0 chunks lost or duplicated (lost {}, duplicated {}, stream gaps {})",
                b.chunks_lost,
                b.chunks_duplicated,
                d.event_gaps + d.delta_gaps
            ),
            lost == 0,
        ));
        c.push((
            format!(
                "streamed words = committed words in every chunk ({} of {} chunks differ, {} of them short)",
                d.chunk_word_mismatches, d.chunks_checked, d.chunk_streams_short
            ),
            d.chunk_word_mismatches == 0,
        ));
        c.push((
            format!(
                "chapters' words add up to the book's words ({} books differ)",
                b.word_mismatches
            ),
            b.word_mismatches == 0,
        ));
        for n in &self.nodes {
            c.push((
                format!(
                    "pid {}: ≤ {:.0} KiB per connection above base (got {:.1})",
                    n.pid, self.max_kib_per_conn, n.kib_per_conn
                ),
                n.kib_per_conn <= self.max_kib_per_conn,
            ));
            c.push((
                format!(
                    "pid {}: RSS growth over the hold ≤ {:.0} MiB (got {:.1})",
                    n.pid, self.max_growth_mib, n.growth_mib
                ),
                n.growth_mib <= self.max_growth_mib,
            ));
        }
        c
    }

    pub fn json(&self) -> serde_json::Value {
        let h = |x: &Histogram| {
            let (a, b, c) = x.ms();
            json!({"n": x.count(), "p50_ms": a, "p95_ms": b, "p99_ms": c, "max_ms": x.max() as f64 / 1000.0})
        };
        let routes: serde_json::Map<String, serde_json::Value> = self.http.routes.iter().map(|(k, r)| {
            (k.clone(), json!({"latency": h(&r.latency), "ok": r.ok, "errors": r.errors, "statuses": r.statuses}))
        }).collect();
        json!({
            "setup": self.setup,
            "ws": {"planned": self.planned_conns, "peak_open": self.peak_open, "connects": self.ws.connects,
                   "connect_failures": self.ws.connect_failures, "unexpected_disconnects": self.ws.unexpected_disconnects,
                   "frames": self.ws.frames, "reasons": self.ws.disconnect_reasons},
            "delivery": {"event_local": h(&self.delivery.event_local), "event_remote": h(&self.delivery.event_remote),
                         "delta_spread_local": h(&self.delivery.delta_spread_local), "delta_spread_remote": h(&self.delivery.delta_spread_remote)},
            "http": {"routes": routes, "scheduled": self.http.scheduled, "skipped": self.http.skipped, "late": self.http.late,
                     "seconds": self.http.elapsed.as_secs_f64()},
            "nodes": self.nodes,
            "load_cores": self.load_cores,
            "books": self.books,
            "checks": self.checks(),
        })
    }
}
