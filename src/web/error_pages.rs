//! Turns error responses of browser pages into a friendly, localized HTML page (the API, WebSocket,
//! health and metrics keep their JSON). A `401` on a page becomes a redirect to the login form.

use actix_session::SessionExt;
use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::middleware::Next;
use actix_web::HttpResponse;
use askama::Template;

use crate::error::{ErrorBody, FieldProblem, PlanLimit};
use crate::i18n::Tr;
use crate::web::say;
use crate::web::session::{app_state, csrf_token, locale_for, session_user, PageCtx};

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    page: PageCtx,
    status: u16,
    title_key: &'static str,
    message_key: &'static str,
    detail: String,
    /// When to try again, in words ("You can try again in 59 minutes.").
    retry: Option<String>,
    /// A plan's limit: the page points to the plans.
    plan_limit: bool,
    /// Offer "Go back" (the browser kept the form's text there).
    back: bool,
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
    let field = res.extensions().get::<FieldProblem>().cloned();
    let plan_limit = res.extensions().get::<PlanLimit>().is_some();
    let session = http_req.get_session();
    // The page in the normal layout: the signed-in header and the user's language. A failure to
    // read the session's user (the database away) leaves the page signed out rather than failing.
    let user = match app_state(&http_req) {
        Ok(state) => session_user(&state, &session).await.ok().flatten(),
        Err(_) => None,
    };
    let locale = locale_for(&http_req, user.as_ref());
    let t = Tr(locale);
    let page = PageCtx {
        user,
        csrf: csrf_token(&session),
        t,
        lang: locale.code(),
        path: http_req.path().to_string(),
    };
    let (message_key, mut detail) = describe(status, body.as_ref(), plan_limit);
    if let Some(f) = &field {
        let reason = body.as_ref().map_or("", |b| b.message.as_str());
        detail = say::problem(t, f.field, &f.problem, reason);
    }
    let retry = body.as_ref().and_then(|b| b.retry_after).map(|secs| {
        let key = if plan_limit {
            "limits.quota_used"
        } else {
            "limits.try_again"
        };
        say::with_wait(t, key, secs)
    });
    let tpl = ErrorPage {
        page,
        status: status.as_u16(),
        title_key: title_key(status, message_key),
        message_key,
        detail,
        retry,
        plan_limit,
        back: matches!(status.as_u16(), 400 | 403 | 413 | 422),
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

/// The page's heading: what happened, in a few words.
fn title_key(status: StatusCode, message_key: &str) -> &'static str {
    match (status.as_u16(), message_key) {
        (404, _) => "error.title_not_found",
        (_, "error.csrf") => "error.title_expired",
        (413, _) => "error.title_too_large",
        (_, "error.plan_limit") => "error.title_plan_limit",
        (429, _) => "error.title_slow_down",
        _ => "error.title",
    }
}

/// The localized sentence for a status, plus the specific message when it is safe and useful to show
/// (another door's English wording is not shown on a page in another language).
fn describe(
    status: StatusCode,
    body: Option<&ErrorBody>,
    plan_limit: bool,
) -> (&'static str, String) {
    let specific = body.map(|b| b.message.clone()).unwrap_or_default();
    match status.as_u16() {
        404 => ("error.not_found", String::new()),
        403 if body.is_some_and(|b| b.error == "csrf_failed") => ("error.csrf", String::new()),
        403 => ("error.forbidden", specific),
        413 => ("limits.too_large", String::new()),
        429 if plan_limit => ("error.plan_limit", String::new()),
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
