//! `Cache-Control: no-store` where a copy must not be kept by a browser or a proxy: every HTML page of
//! a signed-in session (its library, settings, a freshly created API key) and every API answer.
//! Responses that set their own `Cache-Control` (static files) are left alone.

use actix_session::SessionExt;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;

use crate::web::session::KEY_SESSION;

pub async fn no_store(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let api = req.path().starts_with("/api/");
    let mut res = next.call(req).await?;
    if res.headers().contains_key(header::CACHE_CONTROL) {
        return Ok(res);
    }
    let html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let signed_in = || {
        res.request()
            .get_session()
            .get::<String>(KEY_SESSION)
            .ok()
            .flatten()
            .is_some()
    };
    if api || (html && signed_in()) {
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(res)
}
