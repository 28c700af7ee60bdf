//! `/metrics` in the Prometheus text format. Current-state gauges (database pool, jobs per queue and
//! state, engine runs and subscribers, circuit breaker) are sampled here, at scrape time.

use actix_web::{web, HttpResponse};
use buko_actors::breaker::BreakerState;

use crate::db::{self, repo};
use crate::error::AppError;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/metrics", web::get().to(metrics));
}

async fn metrics(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, AppError> {
    let ops = &state.settings.ops;
    if !crate::ops::access::detail_allowed(&req, ops) {
        if crate::ops::access::token_configured(ops) {
            return Ok(HttpResponse::Unauthorized()
                .insert_header(("WWW-Authenticate", "Bearer realm=\"buko-ops\""))
                .json(serde_json::json!({ "error": "unauthorized", "message": "BUKO_OPS_TOKEN required" })));
        }
        return Err(AppError::NotFound);
    }
    let handle = crate::metrics::handle()
        .ok_or_else(|| AppError::Unavailable("metrics recorder not installed".into()))?;
    sample_gauges(&state).await;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(handle.render()))
}

async fn sample_gauges(state: &AppState) {
    let pool = state.db.state();
    metrics::gauge!("buko_db_pool_connections", "state" => "in_use")
        .set(f64::from(pool.connections - pool.idle_connections));
    metrics::gauge!("buko_db_pool_connections", "state" => "idle")
        .set(f64::from(pool.idle_connections));

    let counts = db::run(&state.db, repo::jobs::counts_by_queue_and_status).await;
    if let Ok(counts) = counts {
        for queue in crate::queue::QueueName::ALL {
            for status in ["queued", "running", "done", "failed"] {
                let n = counts
                    .iter()
                    .find(|(q, s, _)| q == queue.as_str() && s == status)
                    .map_or(0, |(_, _, n)| *n);
                metrics::gauge!("buko_jobs", "queue" => queue.as_str(), "state" => status)
                    .set(n as f64);
            }
        }
    }

    let (connections, users) = state.ws_registry.counts();
    metrics::gauge!("buko_ws_connections").set(connections as f64);
    metrics::gauge!("buko_ws_users").set(users as f64);

    let engine = &state.runner.engine;
    if let Ok(running) = engine.supervisor.send(buko_actors::RunningBooks).await {
        metrics::gauge!("buko_generations_running").set(running.len() as f64);
    }
    if let Ok(c) = engine.broadcaster.send(buko_actors::GetCounts).await {
        metrics::gauge!("buko_progress_subscribers").set(c.subscribers as f64);
        metrics::gauge!("buko_progress_books_streaming").set(c.books_streaming as f64);
        metrics::gauge!("buko_progress_delivered").set(c.delivered as f64);
        metrics::gauge!("buko_progress_dropped_subscribers").set(c.dropped as f64);
    }
    let provider = engine.deps.llm.provider().to_string();
    let breaker = match engine.deps.breakers.state(&provider) {
        BreakerState::Closed => 0.0,
        BreakerState::HalfOpen { .. } => 1.0,
        BreakerState::Open { .. } => 2.0,
    };
    metrics::gauge!("buko_circuit_breaker_state", "provider" => provider).set(breaker);
    metrics::gauge!("buko_db_pool_max_connections").set(f64::from(state.db.max_size()));
    crate::ops::system::sample_process_gauges(&state.settings.data_dir);
}
