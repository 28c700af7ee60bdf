//! The dashboard: rendered server-side from a fresh sample (works without JS), then kept live by
//! `static/admin.js`, which listens for `stats` messages on the WebSocket (admin sessions subscribe to
//! the `admin` topic). `/admin/stats` serves the same sample as JSON.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;

use super::RequireAdmin;
use crate::admin::stats::{self, Stats};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::render::html;
use crate::web::session::PageCtx;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("", web::get().to(dashboard))
        .route("/", web::get().to(dashboard))
        .route("/stats", web::get().to(stats_json));
}

#[derive(Template)]
#[template(path = "admin/dashboard.html")]
struct DashboardPage {
    page: PageCtx,
    s: Stats,
}

async fn dashboard(
    _admin: RequireAdmin,
    page: PageCtx,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let s = stats::sample(&state).await;
    html(StatusCode::OK, &DashboardPage { page, s })
}

async fn stats_json(
    _admin: RequireAdmin,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(stats::sample(&state).await))
}
