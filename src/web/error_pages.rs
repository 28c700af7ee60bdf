//! Turns error responses of browser pages into a friendly, localized HTML page (the API, WebSocket,
//! health and metrics keep their JSON). A `401` on a page becomes a redirect to the login form.

use actix_session::SessionExt;
use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::middleware::Next;
use actix_web::HttpResponse;
use askama::Template;

use crate::error::ErrorBody;
use crate::i18n::Tr;
use crate::web::session::{csrf_token, locale_for, PageCtx};

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    page: PageCtx,
    status: u16,
    message_key: &'static str,
    detail: String,
    retry_after: Option<u64>,
}

fn is_machine_path(path: &str) -> bool {
    [
        "/api/",
        "/ws",
        "/health",
        "/metrics",
        "/static/",
        "/webhooks/",
    ]
    .iter()
    .any(|p| path.starts_with(p))
}

pub async fn render_error_pages(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<BoxBody>>, actix_web::Error> {
    let machine = is_machine_path(req.path());
    let res = next.call(req).await?;
    let status = res.status();
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    // Pages that render their own error (a form shown again with a message) are left as they are.
    if machine || is_html || !(status.is_client_error() || status.is_server_error()) {
        return Ok(res.map_into_boxed_body().map_into_left_body());
    }
    let (http_req, res) = res.into_parts();
    if status == StatusCode::UNAUTHORIZED {
        let target = http_req.uri().path_and_query().map_or("/", |p| p.as_str());
        let location = format!("/login?next={}", urlencode(target));
        let redirect = HttpResponse::SeeOther()
            .insert_header((header::LOCATION, location))
            .finish();
        return Ok(ServiceResponse::new(http_req, redirect).map_into_right_body());
    }
    let body = res.extensions().get::<ErrorBody>().cloned();
    let locale = locale_for(&http_req, None);
    let session = http_req.get_session();
    let page = PageCtx {
        user: None,
        csrf: csrf_token(&session),
        t: Tr(locale),
        lang: locale.code(),
        path: http_req.path().to_string(),
    };
    let (message_key, detail) = describe(status, body.as_ref());
    let tpl = ErrorPage {
        page,
        status: status.as_u16(),
        message_key,
        detail,
        retry_after: body.as_ref().and_then(|b| b.retry_after),
    };
    let mut out = HttpResponse::build(status);
    out.content_type("text/html; charset=utf-8");
    for name in [
        header::RETRY_AFTER,
        header::HeaderName::from_static("x-request-id"),
    ] {
        if let Some(v) = res.headers().get(&name) {
            out.insert_header((name.clone(), v.clone()));
        }
    }
    let html = tpl
        .render()
        .unwrap_or_else(|_| "<h1>Error</h1>".to_string());
    Ok(ServiceResponse::new(http_req, out.body(html)).map_into_right_body())
}

/// The localized sentence for a status, plus the specific message when it is safe and useful to show.
fn describe(status: StatusCode, body: Option<&ErrorBody>) -> (&'static str, String) {
    let specific = body.map(|b| b.message.clone()).unwrap_or_default();
    match status.as_u16() {
        404 => ("error.not_found", String::new()),
        403 if body.is_some_and(|b| b.error == "csrf_failed") => ("error.csrf", String::new()),
        403 => ("error.forbidden", specific),
        413 => ("error.too_large", String::new()),
        429 => ("error.rate_limited", String::new()),
        503 => ("error.unavailable", String::new()),
        s if s >= 500 => ("error.internal", String::new()),
        _ => ("error.bad_request", specific),
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
