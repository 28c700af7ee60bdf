//! A local fake of the PayPal and Mercado Pago APIs the billing code calls: PayPal's OAuth2 token,
//! subscriptions (create, read, cancel, an approval page) and webhook signature verification;
//! Mercado Pago's preapprovals (create, read, update, a checkout page) and payments. Credentials are
//! checked like the real ones; faults are switched on through `FakeState`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use serde_json::{json, Value};

pub const PAYPAL_CLIENT: &str = "cid";
pub const PAYPAL_SECRET: &str = "csecret";
/// `Basic base64("cid:csecret")`.
const PAYPAL_BASIC: &str = "Basic Y2lkOmNzZWNyZXQ=";
pub const PAYPAL_WEBHOOK_ID: &str = "WH-TEST";
/// The transmission signature the fake verifies as genuine.
pub const GOOD_SIG: &str = "good-sig";
pub const MP_TOKEN: &str = "mp-token";
pub const MP_SECRET: &str = "mp-webhook-secret";
pub const PAYPAL_PRO: &str = "P-PRO";
pub const MP_STUDIO: &str = "2c93-studio";

#[derive(Default)]
pub struct FakeState {
    pub base: String,
    pub paypal: HashMap<String, Value>,
    pub preapprovals: HashMap<String, Value>,
    pub payments: HashMap<String, Value>,
    pub tokens_issued: usize,
    pub verify_calls: usize,
    /// Answer `verify-webhook-signature` with this status (e.g. 500) instead of verifying.
    pub verify_fault: Option<u16>,
    /// Answer reads of subscriptions / preapprovals with this status.
    pub read_fault: Option<u16>,
    /// Answer creations with this status.
    pub create_fault: Option<u16>,
    /// Where the approval page sends the payer back (the request's `application_context.return_url`).
    pub return_urls: HashMap<String, String>,
    next: usize,
}

pub type Fake = Arc<Mutex<FakeState>>;

fn lock(f: &Fake) -> std::sync::MutexGuard<'_, FakeState> {
    f.lock().unwrap_or_else(|p| p.into_inner())
}

fn in_30_days() -> String {
    (chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339()
}

fn bearer_ok(req: &HttpRequest, token: &str) -> bool {
    req.headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bearer {token}"))
}

fn fault(code: u16) -> HttpResponse {
    HttpResponse::build(actix_web::http::StatusCode::from_u16(code).expect("status"))
        .json(json!({"name": "INTERNAL_SERVICE_ERROR", "message": "fake fault"}))
}

async fn token(
    req: HttpRequest,
    f: web::Data<Fake>,
    form: web::Form<HashMap<String, String>>,
) -> HttpResponse {
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok());
    if auth != Some(PAYPAL_BASIC)
        || form.get("grant_type").map(String::as_str) != Some("client_credentials")
    {
        return HttpResponse::Unauthorized().json(
            json!({"error": "invalid_client", "error_description": "Client Authentication failed"}),
        );
    }
    lock(&f).tokens_issued += 1;
    HttpResponse::Ok().json(
        json!({"access_token": "A21-fake-token", "token_type": "Bearer", "expires_in": 32400}),
    )
}

async fn pp_create(req: HttpRequest, f: web::Data<Fake>, body: web::Json<Value>) -> HttpResponse {
    if !bearer_ok(&req, "A21-fake-token") {
        return HttpResponse::Unauthorized().finish();
    }
    let mut s = lock(&f);
    if let Some(code) = s.create_fault {
        return fault(code);
    }
    if body["plan_id"].as_str().is_none() {
        return HttpResponse::BadRequest().json(json!({"name": "INVALID_REQUEST"}));
    }
    s.next += 1;
    let id = format!("I-FAKE{}", s.next);
    let sub = json!({"id": id, "status": "APPROVAL_PENDING", "plan_id": body["plan_id"],
        "custom_id": body["custom_id"], "billing_info": {"next_billing_time": in_30_days()}});
    s.paypal.insert(id.clone(), sub.clone());
    if let Some(url) = body["application_context"]["return_url"].as_str() {
        s.return_urls.insert(id.clone(), url.to_string());
    }
    let approve = format!("{}/paypal/approve?ba_token={id}", s.base);
    HttpResponse::Created().json(json!({"id": id, "status": "APPROVAL_PENDING", "links": [
        {"href": approve, "rel": "approve", "method": "GET"},
        {"href": format!("{}/v1/billing/subscriptions/{id}", s.base), "rel": "self", "method": "GET"}]}))
}

async fn pp_get(req: HttpRequest, f: web::Data<Fake>, id: web::Path<String>) -> HttpResponse {
    if !bearer_ok(&req, "A21-fake-token") {
        return HttpResponse::Unauthorized().finish();
    }
    let s = lock(&f);
    if let Some(code) = s.read_fault {
        return fault(code);
    }
    match s.paypal.get(id.as_str()) {
        Some(v) => HttpResponse::Ok().json(v),
        None => HttpResponse::NotFound().json(json!({"name": "RESOURCE_NOT_FOUND"})),
    }
}

async fn pp_cancel(req: HttpRequest, f: web::Data<Fake>, id: web::Path<String>) -> HttpResponse {
    if !bearer_ok(&req, "A21-fake-token") {
        return HttpResponse::Unauthorized().finish();
    }
    match lock(&f).paypal.get_mut(id.as_str()) {
        Some(v) => {
            v["status"] = json!("CANCELLED");
            v["billing_info"] = json!({});
            HttpResponse::NoContent().finish()
        }
        None => HttpResponse::NotFound().finish(),
    }
}

async fn pp_approve(f: web::Data<Fake>, q: web::Query<HashMap<String, String>>) -> HttpResponse {
    let id = q.get("ba_token").cloned().unwrap_or_default();
    let mut s = lock(&f);
    let back = s.return_urls.get(&id).cloned().unwrap_or_default();
    match s.paypal.get_mut(&id) {
        Some(v) => {
            v["status"] = json!("ACTIVE");
            // Like PayPal: the payer approved; a link returns them to the merchant.
            HttpResponse::Ok().content_type("text/html").body(format!(
                "<h1>PayPal (fake): {id} approved</h1><a id=\"return\" href=\"{back}\">Return to merchant</a>"
            ))
        }
        None => HttpResponse::NotFound().finish(),
    }
}

async fn pp_verify(req: HttpRequest, f: web::Data<Fake>, body: web::Json<Value>) -> HttpResponse {
    if !bearer_ok(&req, "A21-fake-token") {
        return HttpResponse::Unauthorized().finish();
    }
    let mut s = lock(&f);
    s.verify_calls += 1;
    if let Some(code) = s.verify_fault {
        return fault(code);
    }
    let ok = body["webhook_id"] == PAYPAL_WEBHOOK_ID
        && body["transmission_sig"] == GOOD_SIG
        && body["webhook_event"]["id"].is_string();
    HttpResponse::Ok().json(json!({"verification_status": if ok { "SUCCESS" } else { "FAILURE" }}))
}

async fn mp_create(req: HttpRequest, f: web::Data<Fake>, body: web::Json<Value>) -> HttpResponse {
    if !bearer_ok(&req, MP_TOKEN) {
        return HttpResponse::Unauthorized().json(json!({"message": "invalid_token"}));
    }
    let mut s = lock(&f);
    if let Some(code) = s.create_fault {
        return fault(code);
    }
    s.next += 1;
    let id = format!("pa{:08}", s.next);
    let v = json!({"id": id, "status": "pending", "external_reference": body["external_reference"],
        "payer_email": body["payer_email"], "preapproval_plan_id": body["preapproval_plan_id"],
        "auto_recurring": body["auto_recurring"], "next_payment_date": in_30_days()});
    s.preapprovals.insert(id.clone(), v);
    let init = format!("{}/mp/checkout?preapproval_id={id}", s.base);
    HttpResponse::Created().json(json!({"id": id, "init_point": init, "status": "pending"}))
}

async fn mp_get(req: HttpRequest, f: web::Data<Fake>, id: web::Path<String>) -> HttpResponse {
    if !bearer_ok(&req, MP_TOKEN) {
        return HttpResponse::Unauthorized().finish();
    }
    let s = lock(&f);
    if let Some(code) = s.read_fault {
        return fault(code);
    }
    match s.preapprovals.get(id.as_str()) {
        Some(v) => HttpResponse::Ok().json(v),
        None => HttpResponse::NotFound().json(json!({"message": "not found"})),
    }
}

async fn mp_put(
    req: HttpRequest,
    f: web::Data<Fake>,
    id: web::Path<String>,
    body: web::Json<Value>,
) -> HttpResponse {
    if !bearer_ok(&req, MP_TOKEN) {
        return HttpResponse::Unauthorized().finish();
    }
    match lock(&f).preapprovals.get_mut(id.as_str()) {
        Some(v) => {
            if let Some(st) = body["status"].as_str() {
                v["status"] = json!(st);
            }
            HttpResponse::Ok().json(v.clone())
        }
        None => HttpResponse::NotFound().finish(),
    }
}

async fn mp_payment(req: HttpRequest, f: web::Data<Fake>, id: web::Path<String>) -> HttpResponse {
    if !bearer_ok(&req, MP_TOKEN) {
        return HttpResponse::Unauthorized().finish();
    }
    match lock(&f).payments.get(id.as_str()) {
        Some(v) => HttpResponse::Ok().json(v),
        None => HttpResponse::NotFound().finish(),
    }
}

async fn mp_checkout(f: web::Data<Fake>, q: web::Query<HashMap<String, String>>) -> HttpResponse {
    let id = q.get("preapproval_id").cloned().unwrap_or_default();
    match lock(&f).preapprovals.get_mut(&id) {
        Some(v) => {
            v["status"] = json!("authorized");
            HttpResponse::Ok()
                .content_type("text/html")
                .body(format!("<h1>Mercado Pago (fake): {id} authorized</h1>"))
        }
        None => HttpResponse::NotFound().finish(),
    }
}

/// Starts the fake on a free port; returns its base URL and state.
pub async fn spawn_payments_fake() -> (String, Fake) {
    let state: Fake = Arc::new(Mutex::new(FakeState::default()));
    let data = web::Data::new(state.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/v1/oauth2/token", web::post().to(token))
            .route("/v1/billing/subscriptions", web::post().to(pp_create))
            .route("/v1/billing/subscriptions/{id}", web::get().to(pp_get))
            .route(
                "/v1/billing/subscriptions/{id}/cancel",
                web::post().to(pp_cancel),
            )
            .route(
                "/v1/notifications/verify-webhook-signature",
                web::post().to(pp_verify),
            )
            .route("/paypal/approve", web::get().to(pp_approve))
            .route("/preapproval", web::post().to(mp_create))
            .route("/preapproval/{id}", web::get().to(mp_get))
            .route("/preapproval/{id}", web::put().to(mp_put))
            .route("/v1/payments/{id}", web::get().to(mp_payment))
            .route("/mp/checkout", web::get().to(mp_checkout))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .expect("bind fake");
    let port = server.addrs()[0].port();
    actix_web::rt::spawn(server.run());
    let base = format!("http://127.0.0.1:{port}");
    lock(&state).base = base.clone();
    (base, state)
}

pub fn with<T>(f: &Fake, g: impl FnOnce(&mut FakeState) -> T) -> T {
    g(&mut lock(f))
}
