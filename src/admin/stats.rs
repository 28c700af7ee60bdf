//! The dashboard's figures: one [`Stats`] sample of this node, and the task that publishes a sample to
//! the broadcaster's `admin` topic every [`PERIOD`] (every node runs one; each sample says which node
//! it describes). The same sample renders the dashboard server-side, so the page works without JS.

use std::time::Duration;

use buko_actors::breaker::BreakerState;
use buko_actors::{ProgressMessage, Publish, RunningBooks};
use chrono::NaiveDateTime;
use serde::Serialize;

use crate::db::{self, repo};
use crate::queue::QueueName;
use crate::state::AppState;

/// How often the sampler publishes.
pub const PERIOD: Duration = Duration::from_secs(2);
/// Window of the LLM latency and error-rate figures.
const LLM_WINDOW_SECS: i64 = 300;
/// Window of the tokens-per-second figure.
const TOKENS_WINDOW_SECS: i64 = 60;
/// At most this many recent calls feed the percentiles (bounds the sampler's work under load).
const MAX_CALLS: i64 = 5_000;

#[derive(Clone, Debug, Default, Serialize)]
pub struct QueueDepth {
    pub queue: &'static str,
    pub queued: i64,
    pub running: i64,
}

#[derive(Clone, Debug, Serialize)]
pub struct BreakerRow {
    pub provider: String,
    /// `closed`, `half_open` or `open`.
    pub state: &'static str,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct LlmFigures {
    pub calls: usize,
    pub p50_ms: Option<i64>,
    pub p95_ms: Option<i64>,
    /// Failed calls / calls, 0..1 (`None` with no calls).
    pub error_rate: Option<f64>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Stats {
    pub node: String,
    pub at: String,
    /// Users seen in the last minute by any node (presence: Redis when configured, else this node).
    pub online_users: usize,
    pub online_users_peak: usize,
    pub online_source: &'static str,
    pub ws_connections: usize,
    pub generations_running: usize,
    pub queues: Vec<QueueDepth>,
    pub breakers: Vec<BreakerRow>,
    /// Output tokens per second over the last minute (calls are recorded when they finish).
    pub tokens_per_sec: f64,
    pub llm: LlmFigures,
    pub cpu_percent: Option<f64>,
    pub memory_bytes: Option<u64>,
    /// Set when the database could not be read for this sample (its figures are then zero).
    pub db_error: bool,
}

impl Stats {
    pub fn memory_mb(&self) -> String {
        self.memory_bytes
            .map_or_else(|| "–".into(), |b| format!("{:.1}", b as f64 / 1_048_576.0))
    }
    pub fn cpu(&self) -> String {
        self.cpu_percent
            .map_or_else(|| "–".into(), |c| format!("{c:.1}"))
    }
    pub fn tokens(&self) -> String {
        format!("{:.1}", self.tokens_per_sec)
    }
    pub fn error_pct(&self) -> String {
        self.llm
            .error_rate
            .map_or_else(|| "–".into(), |r| format!("{:.1}", r * 100.0))
    }
    pub fn p50(&self) -> String {
        self.llm
            .p50_ms
            .map_or_else(|| "–".into(), |v| v.to_string())
    }
    pub fn p95(&self) -> String {
        self.llm
            .p95_ms
            .map_or_else(|| "–".into(), |v| v.to_string())
    }
}

/// Takes one sample of this node.
pub async fn sample(state: &AppState) -> Stats {
    let (ws_connections, _) = state.ws_registry.counts();
    let (online, peak) = state.presence.online().await;
    let online_users = usize::try_from(online).unwrap_or(usize::MAX);
    let online_users_peak = usize::try_from(peak)
        .unwrap_or(usize::MAX)
        .max(state.admin.record_online(online_users));
    let engine = &state.runner.engine;
    let generations_running = engine
        .supervisor
        .send(RunningBooks)
        .await
        .map_or(0, |r| r.len());
    let provider = engine.deps.llm.provider().to_string();
    let breakers = vec![BreakerRow {
        state: breaker_name(engine.deps.breakers.state(&provider)),
        provider,
    }];
    let now = db::now();
    let since = now - chrono::Duration::seconds(LLM_WINDOW_SECS);
    let figures = db::run(&state.db, move |c| {
        Ok((
            repo::admin::job_counts(c)?,
            repo::admin::calls_since(c, since, MAX_CALLS)?,
        ))
    })
    .await;
    let (db_error, jobs, calls) = match figures {
        Ok((jobs, calls)) => (false, jobs, calls),
        Err(e) => {
            log::warn!(target: "buko::admin", "dashboard sample: {e}");
            (true, vec![], vec![])
        }
    };
    Stats {
        node: state.admin.node.clone(),
        at: chrono::Utc::now().to_rfc3339(),
        online_users,
        online_users_peak,
        online_source: "presence",
        ws_connections,
        generations_running,
        queues: queue_depths(&jobs),
        breakers,
        tokens_per_sec: tokens_per_sec(&calls, now),
        llm: llm_figures(&calls),
        cpu_percent: state.admin.cpu_sample(),
        memory_bytes: crate::process::memory_bytes(),
        db_error,
    }
}

fn breaker_name(s: BreakerState) -> &'static str {
    match s {
        BreakerState::Closed => "closed",
        BreakerState::HalfOpen { .. } => "half_open",
        BreakerState::Open { .. } => "open",
    }
}

fn queue_depths(rows: &[(String, String, i64)]) -> Vec<QueueDepth> {
    QueueName::ALL
        .into_iter()
        .map(|q| {
            let n = |status: &str| {
                rows.iter()
                    .filter(|(queue, s, _)| queue == q.as_str() && s == status)
                    .map(|(_, _, n)| *n)
                    .sum()
            };
            QueueDepth {
                queue: q.as_str(),
                queued: n("queued"),
                running: n("running"),
            }
        })
        .collect()
}

fn tokens_per_sec(calls: &[(NaiveDateTime, i64, i64, bool)], now: NaiveDateTime) -> f64 {
    let since = now - chrono::Duration::seconds(TOKENS_WINDOW_SECS);
    let tokens: i64 = calls
        .iter()
        .filter(|(at, ..)| *at >= since)
        .map(|(_, out, ..)| *out)
        .sum();
    tokens as f64 / TOKENS_WINDOW_SECS as f64
}

fn llm_figures(calls: &[(NaiveDateTime, i64, i64, bool)]) -> LlmFigures {
    if calls.is_empty() {
        return LlmFigures::default();
    }
    let mut latencies: Vec<i64> = calls.iter().map(|(_, _, l, _)| *l).collect();
    latencies.sort_unstable();
    let failed = calls.iter().filter(|(.., ok)| !ok).count();
    LlmFigures {
        calls: calls.len(),
        p50_ms: percentile(&latencies, 50),
        p95_ms: percentile(&latencies, 95),
        error_rate: Some(failed as f64 / calls.len() as f64),
    }
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[i64], p: usize) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

/// Publishes a sample to the `admin` topic every [`PERIOD`] for as long as the node runs. Only admin
/// WebSocket sessions subscribe to that topic, so a node without an admin watching pays one cheap
/// sample per period.
pub async fn run(state: actix_web::web::Data<AppState>) {
    let mut tick = tokio::time::interval(PERIOD);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
        let stats = sample(&state).await;
        match serde_json::to_value(&stats) {
            Ok(data) => state
                .broadcaster
                .do_send(Publish(ProgressMessage::Stats { data })),
            Err(e) => log::error!(target: "buko::admin", "cannot encode stats: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let v: Vec<i64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50), Some(50));
        assert_eq!(percentile(&v, 95), Some(95));
        assert_eq!(percentile(&[7], 95), Some(7));
        assert_eq!(percentile(&[], 50), None);
    }

    #[test]
    fn error_rate_and_tokens() {
        let now = db::now();
        let old = now - chrono::Duration::seconds(120);
        let calls = vec![(now, 600, 100, true), (old, 6000, 300, false)];
        let f = llm_figures(&calls);
        assert_eq!(f.calls, 2);
        assert_eq!(f.error_rate, Some(0.5));
        assert_eq!(f.p95_ms, Some(300));
        // Only the call of the last minute counts towards tokens per second.
        assert!((tokens_per_sec(&calls, now) - 10.0).abs() < 1e-9);
    }
}
