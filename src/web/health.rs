//! `/health/live` (the process answers) and `/health/ready` (its dependencies answer). The database is
//! required: without it ready is 503 so a load balancer stops sending traffic. Redis is not: a node
//! without it keeps serving with local-only limits, presence and progress, so ready stays 200 with
//! `"status": "degraded"` and `"redis": {"error": …, "degraded": "local-only"}` — taking every node
//! out of rotation because the shared cache died would turn a degradation into an outage. The queue
//! section reports queued / running jobs per queue and whether this node runs workers. A draining node
//! (SIGTERM) answers 503 `"draining"`. The checks are shown only to who may read operational detail
//! (`ops::access`); everyone else gets the status alone.

use std::time::Duration;

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::db;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/health/live", web::get().to(live))
        .route("/health/ready", web::get().to(ready));
}

async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

async fn ready(state: web::Data<AppState>, req: actix_web::HttpRequest) -> HttpResponse {
    if state.lifecycle.draining() {
        // Shutting down: out of rotation at once, whatever the dependencies say.
        return HttpResponse::ServiceUnavailable().json(json!({ "status": "draining" }));
    }
    let detail = crate::ops::access::detail_allowed(&req, &state.settings.ops);
    let database = check_database(&state).await;
    let mut checks = serde_json::Map::new();
    let ok = database.is_ok();
    let mut degraded = false;
    checks.insert("database".into(), outcome(&database));
    if let Some(redis) = &state.redis {
        let r = redis.ping(CHECK_TIMEOUT).await;
        degraded |= r.is_err();
        checks.insert(
            "redis".into(),
            match r {
                Ok(()) => json!("ok"),
                Err(e) => json!({ "error": e.to_string(), "degraded": "local-only" }),
            },
        );
    }
    if ok {
        checks.insert("queue".into(), queue(&state).await);
    }
    let status = match (ok, degraded) {
        (false, _) => "unavailable",
        (true, true) => "degraded",
        (true, false) => "ready",
    };
    // Without access to operational detail, only the verdict (errors can name hosts).
    let body = if detail {
        json!({ "status": status, "checks": checks })
    } else {
        json!({ "status": status })
    };
    if ok {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// Why the database check failed; its message is the check's `error`.
#[derive(Debug, thiserror::Error)]
enum CheckError {
    #[error(transparent)]
    Database(#[from] db::DbError),
    #[error("timed out")]
    TimedOut,
}

fn outcome(r: &Result<(), CheckError>) -> serde_json::Value {
    match r {
        Ok(()) => json!("ok"),
        Err(e) => json!({ "error": e.to_string() }),
    }
}

async fn check_database(state: &AppState) -> Result<(), CheckError> {
    let pool = state.db.clone();
    let check = db::run(&pool, |c| c.ping());
    match actix_web::rt::time::timeout(CHECK_TIMEOUT, check).await {
        Ok(result) => Ok(result?),
        Err(_) => Err(CheckError::TimedOut),
    }
}

/// `{"workers": bool, "architecture": {"queued": n, "running": n}, …}`.
async fn queue(state: &AppState) -> serde_json::Value {
    let counts = db::run(&state.db, crate::queue::sweep::counts);
    let mut out = serde_json::Map::new();
    out.insert("workers".into(), json!(state.runs_workers));
    for q in crate::queue::QueueName::ALL {
        out.insert(q.as_str().into(), json!({ "queued": 0, "running": 0 }));
    }
    match actix_web::rt::time::timeout(CHECK_TIMEOUT, counts).await {
        Ok(Ok(rows)) => {
            for (queue, status, n) in rows {
                if let Some(entry) = out.get_mut(&queue) {
                    entry[status.as_str()] = json!(n);
                }
            }
        }
        Ok(Err(e)) => {
            out.insert("error".into(), json!(e.to_string()));
        }
        Err(_) => {
            out.insert("error".into(), json!("timed out"));
        }
    }
    serde_json::Value::Object(out)
}
