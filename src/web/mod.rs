//! HTTP routes by area, one handler family per file, and the middleware every request passes.

pub mod admin;
pub mod api_v1;
pub mod auth;
pub mod billing;
pub mod books;
pub mod cache_control;
pub mod client_addr;
pub mod error_pages;
pub mod health;
pub mod home;
pub mod input;
pub mod metrics;
pub mod render;
pub mod route;
pub mod safe_next;
pub mod say;
pub mod session;
pub mod settings;
pub mod static_files;
pub mod usage;
pub mod webhooks;

use actix_web::web;

use crate::error::AppError;

/// Every route of the app.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.configure(health::routes)
        .configure(metrics::routes)
        .configure(static_files::routes)
        .configure(home::routes)
        .configure(auth::routes)
        .configure(books::routes)
        .configure(settings::routes)
        .configure(billing::routes)
        .configure(webhooks::routes)
        .configure(usage::routes)
        .configure(admin::routes)
        .configure(api_v1::routes)
        .configure(crate::ws::routes)
        .default_service(web::to(not_found));
}

async fn not_found() -> Result<actix_web::HttpResponse, AppError> {
    Err(AppError::NotFound)
}

/// Body limits and extractor error mapping: oversized or malformed input is a clear 4xx, never a 500.
pub fn extractor_config(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::FormConfig::default()
            .limit(64 * 1024)
            .error_handler(|e, _| session::form_error(&e.into()).into()),
    )
    .app_data(
        web::JsonConfig::default()
            .limit(1024 * 1024)
            .error_handler(|e, _| {
                match e {
                    actix_web::error::JsonPayloadError::Overflow { .. }
                    | actix_web::error::JsonPayloadError::OverflowKnownLength { .. } => {
                        AppError::TooLarge
                    }
                    other => AppError::BadRequest(format!("invalid JSON: {other}")),
                }
                .into()
            }),
    )
    .app_data(web::PayloadConfig::default().limit(1024 * 1024))
    .app_data(
        web::QueryConfig::default()
            .error_handler(|e, _| AppError::BadRequest(e.to_string()).into()),
    )
    .app_data(web::PathConfig::default().error_handler(|_, _| AppError::NotFound.into()));
}
