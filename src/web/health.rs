//! `/health/live` (the process answers) and `/health/ready` (its dependencies answer: the database, and
//! Redis when configured). Ready answers 503 when one is down so a load balancer stops sending traffic.

use std::time::Duration;

use actix_web::{web, HttpResponse};
use diesel::connection::SimpleConnection;
use serde_json::json;

use crate::app::AppState;
use crate::db;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/health/live", web::get().to(live))
        .route("/health/ready", web::get().to(ready));
}

async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

async fn ready(state: web::Data<AppState>) -> HttpResponse {
    let database = check_database(&state).await;
    let mut checks = serde_json::Map::new();
    let mut ok = database.is_ok();
    checks.insert("database".into(), outcome(&database));
    if let Some(redis) = &state.redis {
        let r = redis.ping(CHECK_TIMEOUT).await;
        ok &= r.is_ok();
        checks.insert("redis".into(), outcome(&r));
    }
    let body = json!({ "status": if ok { "ready" } else { "unavailable" }, "checks": checks });
    if ok {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

fn outcome(r: &Result<(), String>) -> serde_json::Value {
    match r {
        Ok(()) => json!("ok"),
        Err(e) => json!({ "error": e }),
    }
}

async fn check_database(state: &AppState) -> Result<(), String> {
    let pool = state.db.clone();
    let check = db::run(&pool, |c| c.batch_execute("SELECT 1").map_err(Into::into));
    match actix_web::rt::time::timeout(CHECK_TIMEOUT, check).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("timed out".into()),
    }
}
