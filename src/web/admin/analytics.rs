//! `/admin/analytics`: the charts page, `/admin/analytics.json` (the series of a range) and
//! `/admin/analytics.csv` (every charted series as one table). All three call
//! `analytics::admin_report`; the page is then kept live by `static/analytics.js`, which applies the
//! roll-up's updates from the admin WebSocket topic.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::Utc;

use super::RequireAdmin;
use crate::analytics::{self, series, Query, Range};
use crate::db;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::render::html;
use crate::web::session::PageCtx;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/analytics", web::get().to(page))
        .route("/analytics.json", web::get().to(json))
        .route("/analytics.csv", web::get().to(csv));
}

#[derive(Template)]
#[template(path = "admin/analytics.html")]
struct AnalyticsPage {
    page: PageCtx,
    range: &'static str,
    ranges: [&'static str; 4],
    charts: Vec<Chart>,
    /// Series labels in the page's language, for the script.
    labels: Vec<(&'static str, &'static str)>,
}

struct Chart {
    id: &'static str,
    series: &'static str,
    title: &'static str,
}

/// The charts of the page, in order: id (also the i18n key `analytics.chart.<id>`) and series.
const CHARTS: [(&str, &str, &str); 11] = [
    (
        "books",
        "books_started,books_completed,books_failed",
        "analytics.chart.books",
    ),
    ("words", "words", "analytics.chart.words"),
    (
        "tokens",
        "input_tokens,output_tokens",
        "analytics.chart.tokens",
    ),
    ("cost", "cost_usd", "analytics.chart.cost"),
    (
        "latency",
        "latency_p50_ms,latency_p95_ms",
        "analytics.chart.latency",
    ),
    ("errors", "llm_error_rate", "analytics.chart.errors"),
    (
        "error_classes",
        "llm_errors",
        "analytics.chart.error_classes",
    ),
    ("queues", "queue_depth", "analytics.chart.queues"),
    ("queue_wait", "queue_wait_s", "analytics.chart.queue_wait"),
    (
        "online",
        "online_users,ws_connections",
        "analytics.chart.online",
    ),
    ("signups", "signups", "analytics.chart.signups"),
];

const LABELS: [(&str, &str); 19] = [
    ("books_started", "analytics.s.books_started"),
    ("books_completed", "analytics.s.books_completed"),
    ("books_failed", "analytics.s.books_failed"),
    ("words", "analytics.s.words"),
    ("input_tokens", "analytics.s.input_tokens"),
    ("output_tokens", "analytics.s.output_tokens"),
    ("cost_usd", "analytics.s.cost_usd"),
    ("llm_errors", "analytics.s.llm_errors"),
    ("llm_error_rate", "analytics.s.llm_error_rate"),
    ("latency_p50_ms", "analytics.s.latency_p50_ms"),
    ("latency_p95_ms", "analytics.s.latency_p95_ms"),
    ("queue_depth", "analytics.s.queue_depth"),
    ("queue_wait_s", "analytics.s.queue_wait_s"),
    ("online_users", "analytics.s.online_users"),
    ("ws_connections", "analytics.s.ws_connections"),
    ("signups", "analytics.s.signups"),
    ("total", "analytics.s.total"),
    ("peak", "analytics.s.peak"),
    ("whole_range", "analytics.s.whole_range"),
];

async fn page(
    _admin: RequireAdmin,
    page: PageCtx,
    q: web::Query<Query>,
) -> Result<HttpResponse, AppError> {
    let (range, _) = q.parse(&Range::ADMIN, Range::Day)?;
    let t = page.t;
    html(
        StatusCode::OK,
        &AnalyticsPage {
            range: range.as_str(),
            ranges: Range::ADMIN.map(Range::as_str),
            charts: CHARTS
                .iter()
                .map(|(id, series, key)| Chart {
                    id,
                    series,
                    title: t.get(key),
                })
                .collect(),
            labels: LABELS.iter().map(|(k, key)| (*k, t.get(key))).collect(),
            page,
        },
    )
}

async fn report(state: &AppState, q: Query) -> Result<series::Report, AppError> {
    let (range, tz) = q.parse(&Range::ADMIN, Range::Day)?;
    let report = db::run(&state.db, move |c| {
        Ok(analytics::admin_report(
            c,
            range,
            tz,
            q.series.as_deref(),
            Utc::now(),
        ))
    })
    .await??;
    Ok(report)
}

async fn json(
    _admin: RequireAdmin,
    state: web::Data<AppState>,
    q: web::Query<Query>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(report(&state, q.into_inner()).await?))
}

async fn csv(
    _admin: RequireAdmin,
    state: web::Data<AppState>,
    q: web::Query<Query>,
) -> Result<HttpResponse, AppError> {
    let (range, tz) = q.parse(&Range::ADMIN, Range::Day)?;
    let report = report(&state, q.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"buko-analytics-{}.csv\"",
                range.as_str()
            ),
        ))
        .body(series::csv(&report, tz)))
}
