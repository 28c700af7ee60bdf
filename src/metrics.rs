//! Prometheus metrics. Counters and histograms are recorded where things happen (HTTP middleware, the
//! store's call accounting, rate-limit rejections, the LLM providers); gauges that describe current state
//! (pool, jobs, engine, breaker) are sampled when `/metrics` is scraped, so they cost nothing otherwise.

use std::sync::OnceLock;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
const LLM_BUCKETS: &[f64] = &[
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
];
const GENERATION_BUCKETS: &[f64] = &[
    1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0,
];

/// Installs the process-wide recorder once (several apps in one test process share it).
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let built = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Suffix("_duration_seconds".into()),
                    LATENCY_BUCKETS,
                )
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Prefix("buko_llm_latency".into()),
                        LLM_BUCKETS,
                    )
                })
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Prefix("buko_generation".into()),
                        GENERATION_BUCKETS,
                    )
                });
            match built.and_then(|b| b.install_recorder()) {
                Ok(h) => Some(h),
                Err(e) => {
                    log::warn!(target: "buko::metrics", "metrics recorder not installed: {e}");
                    None
                }
            }
        })
        .as_ref()
}

/// Records count and latency of every request by route pattern (not raw path: ids would explode the
/// label set), method and status. Every label comes from a closed set: the method is one of the
/// standard verbs or `other`, a path no route matches is `unmatched`, so no request can mint series.
pub async fn http_metrics(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = method_label(req.method()).to_string();
    let route = crate::web::route::pattern(&req)
        .as_deref()
        .unwrap_or("unmatched")
        .to_string();
    let res = next.call(req).await?;
    let status = res.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("buko_http_requests_total", &labels).increment(1);
    metrics::histogram!("buko_http_request_duration_seconds", &labels[..2])
        .record(started.elapsed().as_secs_f64());
    Ok(res)
}

/// The method as a metrics label: a standard verb, else `other`.
pub fn method_label(method: &actix_web::http::Method) -> &'static str {
    use actix_web::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// One LLM call's outcome (called by the store when the engine records a call).
pub fn record_llm_call(call: &buko_actors::CallRecord) {
    let provider = call.provider.clone();
    let model = call.model.clone();
    metrics::counter!("buko_llm_calls_total", "provider" => provider.clone(), "purpose" => call.purpose.as_str(), "status" => call.status.clone())
        .increment(1);
    metrics::counter!("buko_llm_tokens_total", "provider" => provider.clone(), "model" => model.clone(), "direction" => "input")
        .increment(call.usage.input_tokens);
    metrics::counter!("buko_llm_tokens_total", "provider" => provider.clone(), "model" => model, "direction" => "output")
        .increment(call.usage.output_tokens);
    metrics::histogram!("buko_llm_latency_seconds", "provider" => provider.clone())
        .record(call.latency_ms as f64 / 1000.0);
    if let Some(kind) = call.error_kind {
        metrics::counter!("buko_llm_call_errors_total", "provider" => provider, "kind" => kind.as_str()).increment(1);
    }
}

pub fn record_rate_limited(scope: &'static str) {
    metrics::counter!("buko_rate_limit_rejections_total", "scope" => scope).increment(1);
}

/// Where an engine store call spends its time (`op`: the port method): waiting for a blocking thread
/// (`phase="queue"`), for a pool connection (`"pool"`), and in its queries and commit (`"query"`).
pub fn record_store_phase(op: &'static str, phase: &'static str, seconds: f64) {
    metrics::histogram!("buko_store_duration_seconds", "op" => op, "phase" => phase)
        .record(seconds);
}

/// How long after its commit (`at`) a durable event reached a stage of its way out: handed to the
/// cross-node publisher by the broadcaster (`stage="published"`), received from another node
/// (`"relayed"`), written to a WebSocket by a session (`"session"`). Only events: text deltas carry no
/// time. Clocks of different nodes differ by their skew (one machine in the load test: none).
/// An event later than [`SLOW_EVENT`] at a stage is also logged (target `buko::lag`, debug level), so
/// one slow event can be followed through its stages.
pub fn record_event_lag(
    stage: &'static str,
    at: chrono::DateTime<chrono::Utc>,
    book_id: &str,
    seq: i64,
) {
    let lag = (chrono::Utc::now() - at).to_std().unwrap_or_default();
    metrics::histogram!("buko_event_lag_duration_seconds", "stage" => stage)
        .record(lag.as_secs_f64());
    buko_actors::log_slow_event(stage, lag, book_id, seq);
}
