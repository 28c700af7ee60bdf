//! Request-rate limits every HTTP request to `/api/` and every page POST passes: one window per client
//! IP and one per endpoint (method + route pattern) across all clients, through the app's
//! `RateLimiter` (in memory on one node, Redis across nodes). Plan quotas (architectures, books) are
//! separate: see [`super::quota`].

use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;

use crate::error::AppError;
use crate::state::AppState;

const MINUTE: Duration = Duration::from_secs(60);

/// Whether a request is counted: the API, and state-changing page requests (reads of pages are cheap
/// and counting them would lock a reader out of their own book).
fn is_limited(req: &ServiceRequest) -> bool {
    req.path().starts_with("/api/") || req.method() == actix_web::http::Method::POST
}

pub async fn enforce(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if is_limited(&req) {
        if let Some(state) = req.app_data::<web::Data<AppState>>().cloned() {
            let limits = state.settings.http_limits;
            // The peer address, not X-Forwarded-For: a header anyone can set must not pick the bucket.
            let ip = req
                .peer_addr()
                .map_or_else(|| "unknown".to_string(), |a| a.ip().to_string());
            let endpoint = format!(
                "{} {}",
                req.method(),
                req.match_pattern().unwrap_or_else(|| "other".into())
            );
            for (key, limit) in [
                (format!("ip:{ip}"), limits.per_ip_per_minute),
                (
                    format!("endpoint:{endpoint}"),
                    limits.per_endpoint_per_minute,
                ),
            ] {
                if limit == 0 {
                    continue;
                }
                let d = state.limiter.hit(key, limit, MINUTE).await;
                if !d.allowed {
                    // A response, not an Err: the error-pages middleware outside must see it to
                    // render the friendly page for browsers.
                    let err = AppError::RateLimited {
                        retry_after: d.retry_after_secs,
                    };
                    return Ok(req.error_response(err).map_into_right_body());
                }
            }
        }
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}
