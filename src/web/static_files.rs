//! The stylesheet and scripts, compiled into the binary so `buko serve` works from any directory.

use actix_web::http::header;
use actix_web::{web, HttpResponse};

use crate::error::AppError;

const FILES: &[(&str, &str, &str)] = &[
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("../../static/style.css"),
    ),
    (
        "admin.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/admin.js"),
    ),
    (
        "analytics.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/analytics.js"),
    ),
    (
        "usage.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/usage.js"),
    ),
    (
        "analytics.css",
        "text/css; charset=utf-8",
        include_str!("../../static/analytics.css"),
    ),
    // uPlot (MIT), vendored: see uplot.LICENSE.
    (
        "uplot.min.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/uplot.min.js"),
    ),
    (
        "uplot.min.css",
        "text/css; charset=utf-8",
        include_str!("../../static/uplot.min.css"),
    ),
    (
        "uplot.LICENSE",
        "text/plain; charset=utf-8",
        include_str!("../../static/uplot.LICENSE"),
    ),
    (
        "live.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/live.js"),
    ),
    (
        "cover.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/cover.js"),
    ),
    (
        "editor.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/editor.js"),
    ),
    (
        "confirm.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/confirm.js"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_str!("../../static/favicon.svg"),
    ),
];

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/static/{file}", web::get().to(serve));
}

async fn serve(file: web::Path<String>) -> Result<HttpResponse, AppError> {
    let (_, content_type, body) = FILES
        .iter()
        .find(|(name, _, _)| *name == file.as_str())
        .ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type(*content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(*body))
}
