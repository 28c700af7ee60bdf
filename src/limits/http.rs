//! Request-rate limits: every request to `/api/` and every page POST passes one window per client IP
//! and one per endpoint (method + route pattern) across all clients; every other request (pages,
//! static files, anything unmatched) passes a larger per-IP window of its own, so no client can send
//! without bound. Through the app's `RateLimiter` (in memory on one node, Redis across nodes). Plan quotas (architectures, books) are
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
    if let Some(state) = req.app_data::<web::Data<AppState>>().cloned() {
        let limits = state.settings.http_limits;
        let ip = crate::web::client_addr::client_addr(req.request()).ip_string();
        let checks = if is_limited(&req) {
            let endpoint = format!(
                "{} {}",
                crate::metrics::method_label(req.method()),
                crate::web::route::pattern(&req)
                    .as_deref()
                    .unwrap_or("other")
            );
            vec![
                (format!("ip:{ip}"), limits.per_ip_per_minute),
                (
                    format!("endpoint:{endpoint}"),
                    limits.per_endpoint_per_minute,
                ),
            ]
        } else {
            vec![(format!("ip-other:{ip}"), limits.other_per_ip_per_minute)]
        };
        // One attempt against all the request's windows at once (one Redis round trip).
        let checks: Vec<(String, u64)> = checks.into_iter().filter(|(_, l)| *l > 0).collect();
        if !checks.is_empty() {
            let d = state.limiter.hit_all(checks, MINUTE).await;
            if !d.allowed {
                crate::metrics::record_rate_limited("http");
                // A response, not an Err: the error-pages middleware outside must see it to
                // render the friendly page for browsers.
                let err = AppError::RateLimited {
                    retry_after: d.retry_after_secs,
                };
                return Ok(req.error_response(err).map_into_right_body());
            }
        }
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}
