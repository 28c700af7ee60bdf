//! `POST /webhooks/paypal` and `POST /webhooks/mercadopago`: thin doors over `billing::webhook`.
//! The body is read raw (64 KiB at most: a larger one is `413`), the answer is quick and never a
//! 5xx for bad input: a bad or missing signature is `401`, malformed JSON `400`, an unknown event type
//! `200 {"status":"ignored"}`, a stored or repeated delivery `200`. Only storage trouble is `503`,
//! which makes the provider deliver again later.

use std::collections::HashMap;

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use crate::billing::webhook::{self, WebhookError};
use crate::error::AppError;
use crate::state::AppState;

/// Provider notifications are small; anything bigger is refused before it is read whole.
pub const MAX_BODY: usize = 64 * 1024;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/webhooks")
            .app_data(web::PayloadConfig::new(MAX_BODY))
            .route("/paypal", web::post().to(paypal))
            .route("/mercadopago", web::post().to(mercadopago)),
    );
}

fn headers(req: &HttpRequest) -> HashMap<String, String> {
    req.headers()
        .iter()
        .filter_map(|(k, v)| {
            Some((
                k.as_str().to_ascii_lowercase(),
                v.to_str().ok()?.to_string(),
            ))
        })
        .collect()
}

fn answer(r: Result<webhook::Ingested, WebhookError>) -> Result<HttpResponse, AppError> {
    match r {
        Ok(i) => Ok(HttpResponse::Ok().json(json!({ "status": i.as_str() }))),
        Err(WebhookError::NotConfigured(_)) => Err(AppError::NotFound),
        Err(WebhookError::Malformed(m)) => Err(AppError::BadRequest(m)),
        Err(WebhookError::BadSignature(m)) => {
            log::warn!(target: "buko::billing", "webhook refused: {m}");
            Ok(HttpResponse::Unauthorized()
                .json(json!({"error": "invalid_signature", "message": m})))
        }
        Err(WebhookError::Db(e)) => Err(e.into()),
    }
}

async fn paypal(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    answer(webhook::ingest_paypal(&state.db, &state.settings, &headers(&req), body.to_vec()).await)
}

async fn mercadopago(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<HashMap<String, String>>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    answer(
        webhook::ingest_mercadopago(
            &state.db,
            &state.settings,
            &headers(&req),
            &query,
            body.to_vec(),
        )
        .await,
    )
}
