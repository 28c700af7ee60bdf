//! The admin time series: what each series is (its merge rule), and the [`Report`] built from the
//! roll-up's slots for a range and a zone — the JSON of `/admin/analytics.json`, the CSV, and the page.
//!
//! Merge rules: counters add up; gauges are sampled by every node (`dim` = `key|node`), combined per
//! slot (connections add up across nodes, global figures take the highest report), and a bucket keeps
//! the peak of its slots; latency percentiles are read from the merged histogram and the error rate
//! from failed / all calls, so the live page can recompute them from the same slots.

use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::buckets::{Bucket, Edges, Range};
use crate::db::repo::analytics::{RollupRow, LATENCY_EDGES_MS};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Adds up across slots and dimensions of a bucket.
    Sum,
    /// Sampled by each node; nodes add up within a slot; a bucket keeps its peak.
    GaugeSum,
    /// Sampled by each node; the highest report of a slot counts; a bucket keeps its peak.
    GaugeMax,
    /// Computed from other series per bucket.
    Derived,
    /// Feeds a derived series (the latency histogram); sent for the live page, not charted.
    Hidden,
}

#[derive(Clone, Copy, Debug)]
pub struct Def {
    pub name: &'static str,
    pub kind: Kind,
    pub unit: &'static str,
}

const fn d(name: &'static str, kind: Kind, unit: &'static str) -> Def {
    Def { name, kind, unit }
}

/// Every series, in the order the page charts them. Revenue and subscriptions join this list when
/// billing stores subscriptions (a computed series in `repo::analytics::compute`).
pub const CATALOGUE: &[Def] = &[
    d("books_started", Kind::Sum, "count"),
    d("books_completed", Kind::Sum, "count"),
    d("books_failed", Kind::Sum, "count"),
    d("words", Kind::Sum, "words"),
    d("input_tokens", Kind::Sum, "tokens"),
    d("output_tokens", Kind::Sum, "tokens"),
    d("cost_usd", Kind::Sum, "usd"),
    d("llm_calls", Kind::Sum, "count"),
    d("llm_failed", Kind::Sum, "count"),
    d("llm_errors", Kind::Sum, "count"),
    d("llm_error_rate", Kind::Derived, "ratio"),
    d("latency_p50_ms", Kind::Derived, "ms"),
    d("latency_p95_ms", Kind::Derived, "ms"),
    d("latency_bin", Kind::Hidden, "count"),
    d("queue_depth", Kind::GaugeMax, "jobs"),
    d("queue_wait_s", Kind::GaugeMax, "s"),
    d("online_users", Kind::GaugeMax, "users"),
    d("ws_connections", Kind::GaugeSum, "connections"),
    d("signups", Kind::Sum, "count"),
];

pub fn def(name: &str) -> Option<&'static Def> {
    CATALOGUE.iter().find(|d| d.name == name)
}

/// The series a `series=` parameter names (all but the hidden ones when empty), with what the derived
/// ones need; `Err(name)` for a name that is not a series.
pub fn select(param: Option<&str>) -> Result<Vec<&'static Def>, String> {
    let asked: Vec<&str> = param
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let mut names: Vec<&str> = if asked.is_empty() {
        CATALOGUE
            .iter()
            .filter(|d| d.kind != Kind::Hidden)
            .map(|d| d.name)
            .collect()
    } else {
        for a in &asked {
            if def(a).is_none_or(|d| d.kind == Kind::Hidden) {
                return Err((*a).to_string());
            }
        }
        asked
    };
    if names.iter().any(|n| n.starts_with("latency_p")) {
        names.push("latency_bin");
    }
    if names.contains(&"llm_error_rate") {
        names.extend(["llm_calls", "llm_failed"]);
    }
    Ok(CATALOGUE
        .iter()
        .filter(|d| names.contains(&d.name))
        .collect())
}

/// One line of a chart: a series (and dimension: model, error class, queue) per bucket.
#[derive(Clone, Debug, Serialize)]
pub struct Line {
    pub name: &'static str,
    pub dim: String,
    pub kind: Kind,
    pub unit: &'static str,
    pub values: Vec<Option<f64>>,
    /// Sum for counters, peak for gauges, the whole range's figure for derived series.
    pub total: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub range: Range,
    pub tz: String,
    pub bucket: Bucket,
    /// Width (s) of the roll-up slots the figures come from (live updates are slots of this width).
    pub width: i64,
    /// Bucket starts (epoch seconds); `end` closes the last one.
    pub t: Vec<i64>,
    pub end: i64,
    pub upcoming: Vec<i64>,
    pub series: Vec<Line>,
    /// The slots the live update re-sends, as stored now (the page diffs later updates against them).
    pub recent: Vec<RollupRow>,
    pub latency_edges_ms: Vec<i64>,
    pub generated_at: i64,
}

fn dim_key(kind: Kind, dim: &str) -> &str {
    match kind {
        Kind::GaugeMax | Kind::GaugeSum => dim.rsplit_once('|').map_or(dim, |(k, _)| k),
        _ => dim,
    }
}

/// Builds the report from the stored slots of the range.
pub fn build(
    range: Range,
    tz: Tz,
    edges: &Edges,
    defs: &[&'static Def],
    rows: &[RollupRow],
    recent: Vec<RollupRow>,
) -> Report {
    let n = edges.starts().len();
    let mut sums: BTreeMap<(&'static str, String), Vec<f64>> = BTreeMap::new();
    // Gauges: per (series, key, slot) the combined node reports, then the peak per bucket.
    let mut slots: BTreeMap<(&'static str, String, i64), f64> = BTreeMap::new();
    for r in rows {
        let Some(def) = defs.iter().find(|d| d.name == r.series) else {
            continue;
        };
        let Some(i) = edges.index(r.slot) else {
            continue;
        };
        let key = dim_key(def.kind, &r.dim).to_string();
        match def.kind {
            Kind::Sum | Kind::Hidden => {
                sums.entry((def.name, key)).or_insert_with(|| vec![0.0; n])[i] += r.value
            }
            Kind::GaugeSum => *slots.entry((def.name, key, r.slot)).or_insert(0.0) += r.value,
            Kind::GaugeMax => {
                let v = slots.entry((def.name, key, r.slot)).or_insert(0.0);
                *v = v.max(r.value);
            }
            Kind::Derived => {}
        }
    }
    let mut peaks: BTreeMap<(&'static str, String), Vec<f64>> = BTreeMap::new();
    for ((name, key, slot), v) in slots {
        if let Some(i) = edges.index(slot) {
            let p = &mut peaks.entry((name, key)).or_insert_with(|| vec![0.0; n])[i];
            *p = p.max(v);
        }
    }
    let mut series = Vec::new();
    for def in defs {
        match def.kind {
            Kind::Sum | Kind::Hidden | Kind::GaugeMax | Kind::GaugeSum => {
                let table = if matches!(def.kind, Kind::Sum | Kind::Hidden) {
                    &sums
                } else {
                    &peaks
                };
                let mut lines: Vec<Line> = table
                    .iter()
                    .filter(|((name, _), _)| *name == def.name)
                    .map(|((_, dim), v)| line(def, dim.clone(), v))
                    .collect();
                if lines.is_empty() && def.kind != Kind::Hidden {
                    lines.push(line(def, String::new(), &vec![0.0; n]));
                }
                series.extend(lines);
            }
            Kind::Derived => series.push(derived(def, &sums, n)),
        }
    }
    Report {
        range,
        tz: tz.name().to_string(),
        bucket: range.bucket(),
        width: range.slot_width(),
        t: edges.starts().to_vec(),
        end: edges.to(),
        upcoming: edges.upcoming.clone(),
        series,
        recent,
        latency_edges_ms: LATENCY_EDGES_MS.to_vec(),
        generated_at: Utc::now().timestamp(),
    }
}

fn line(def: &'static Def, dim: String, values: &[f64]) -> Line {
    let total = match def.kind {
        Kind::GaugeMax | Kind::GaugeSum => values.iter().copied().fold(0.0, f64::max),
        _ => values.iter().sum(),
    };
    Line {
        name: def.name,
        dim,
        kind: def.kind,
        unit: def.unit,
        values: values.iter().map(|v| Some(*v)).collect(),
        total: Some(total),
    }
}

/// Adds up every dimension of `name` per bucket.
fn across(sums: &BTreeMap<(&'static str, String), Vec<f64>>, name: &str, n: usize) -> Vec<f64> {
    let mut out = vec![0.0; n];
    for ((s, _), v) in sums {
        if *s == name {
            for (o, x) in out.iter_mut().zip(v) {
                *o += x;
            }
        }
    }
    out
}

fn derived(def: &'static Def, sums: &BTreeMap<(&'static str, String), Vec<f64>>, n: usize) -> Line {
    let (values, total) = if def.name == "llm_error_rate" {
        let calls = across(sums, "llm_calls", n);
        let failed = across(sums, "llm_failed", n);
        let values = calls
            .iter()
            .zip(&failed)
            .map(|(c, f)| (*c > 0.0).then(|| f / c))
            .collect();
        let (c, f): (f64, f64) = (calls.iter().sum(), failed.iter().sum());
        (values, (c > 0.0).then(|| f / c))
    } else {
        let p = if def.name == "latency_p50_ms" {
            50.0
        } else {
            95.0
        };
        let bins = LATENCY_EDGES_MS.len() + 1;
        let mut hist = vec![vec![0.0; bins]; n];
        for ((s, dim), v) in sums {
            if let (true, Ok(b)) = (*s == "latency_bin", dim.parse::<usize>()) {
                for (i, x) in v.iter().enumerate() {
                    if let Some(h) = hist[i].get_mut(b) {
                        *h += x;
                    }
                }
            }
        }
        let mut all = vec![0.0; bins];
        for h in &hist {
            for (a, x) in all.iter_mut().zip(h) {
                *a += x;
            }
        }
        (
            hist.iter().map(|h| percentile(h, p)).collect(),
            percentile(&all, p),
        )
    };
    Line {
        name: def.name,
        dim: String::new(),
        kind: def.kind,
        unit: def.unit,
        values,
        total,
    }
}

/// The `p`th percentile (nearest rank) of a latency histogram, interpolated inside its bin.
pub fn percentile(hist: &[f64], p: f64) -> Option<f64> {
    let total: f64 = hist.iter().sum();
    if total <= 0.0 {
        return None;
    }
    let rank = (p / 100.0 * total).ceil().max(1.0);
    let mut below = 0.0;
    for (i, c) in hist.iter().enumerate() {
        if *c > 0.0 && below + c >= rank {
            let lower = if i == 0 { 0 } else { LATENCY_EDGES_MS[i - 1] } as f64;
            let upper = LATENCY_EDGES_MS.get(i).map_or(lower * 2.0, |e| *e as f64);
            return Some((lower + (upper - lower) * (rank - below) / c).round());
        }
        below += c;
    }
    None
}

/// Every charted line as CSV: one row per bucket (its start in the viewer's zone), one column per
/// series and dimension.
pub fn csv(report: &Report, tz: Tz) -> String {
    let lines: Vec<&Line> = report
        .series
        .iter()
        .filter(|l| l.kind != Kind::Hidden)
        .collect();
    let mut out = String::from("bucket_start");
    for l in &lines {
        out.push(',');
        let name = if l.dim.is_empty() {
            l.name.to_string()
        } else {
            format!("{}[{}]", l.name, l.dim)
        };
        out.push_str(&csv_field(&name));
    }
    out.push('\n');
    for (i, t) in report.t.iter().enumerate() {
        let start = tz
            .timestamp_opt(*t, 0)
            .single()
            .map(|d| d.to_rfc3339())
            .unwrap_or_default();
        out.push_str(&start);
        for l in &lines {
            out.push(',');
            if let Some(Some(v)) = l.values.get(i) {
                out.push_str(&format_number(*v));
            }
        }
        out.push('\n');
    }
    out
}

fn format_number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:.6}")
    }
}

/// Quotes a field that holds a comma, quote or line break; a leading formula character is
/// neutralised so a spreadsheet never runs a model name as a formula.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_interpolates_inside_the_bin() {
        let mut h = vec![0.0; LATENCY_EDGES_MS.len() + 1];
        // Ten calls in [100, 125) ms.
        h[10] = 10.0;
        let p50 = percentile(&h, 50.0).expect("p50");
        assert!((100.0..=125.0).contains(&p50), "{p50}");
        assert_eq!(percentile(&h, 100.0), Some(125.0));
        assert_eq!(percentile(&[0.0; 3], 50.0), None);
    }

    #[test]
    fn selection_rejects_unknown_names_and_pulls_what_derived_series_need() {
        assert_eq!(select(Some("nope")).err().as_deref(), Some("nope"));
        assert!(select(Some("latency_bin")).is_err());
        let names: Vec<&str> = select(Some("llm_error_rate"))
            .expect("ok")
            .iter()
            .map(|d| d.name)
            .collect();
        assert_eq!(names, ["llm_calls", "llm_failed", "llm_error_rate"]);
        assert_eq!(csv_field("=cmd,x"), "\"'=cmd,x\"");
    }
}
