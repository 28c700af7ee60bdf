//! Plans and subscriptions against local fakes of PayPal and Mercado Pago: checkout through the page
//! and the API, webhooks (signed, replayed, out of order, malformed), the plan the quotas read, the
//! quota given back when the provider fails a book, and the admin's view.

mod admin;
mod browser;
mod concurrency;
pub mod fake;
mod flow;
mod quota;
mod webhooks;

use std::time::{Duration, Instant};

use buko::payments::PaymentSettings;
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, Author, Response, TestApp};
use fake::*;

/// Payment settings pointing both providers at the fake; Pro sold through PayPal, Studio through
/// Mercado Pago (the environment's plan ids).
pub fn payment_settings(base: &str) -> PaymentSettings {
    PaymentSettings::from_lookup(|k| {
        match k {
            "PAYPAL_CLIENT_ID" => Some(PAYPAL_CLIENT),
            "PAYPAL_CLIENT_SECRET" => Some(PAYPAL_SECRET),
            "PAYPAL_WEBHOOK_ID" => Some(PAYPAL_WEBHOOK_ID),
            "BUKO_PAYPAL_API_BASE" => Some(base),
            "MP_ACCESS_TOKEN" => Some(MP_TOKEN),
            "MP_WEBHOOK_SECRET" => Some(MP_SECRET),
            "BUKO_MERCADOPAGO_API_BASE" => Some(base),
            "BUKO_PLAN_PRO_PAYPAL_ID" => Some(PAYPAL_PRO),
            "BUKO_PLAN_STUDIO_MP_ID" => Some(MP_STUDIO),
            _ => None,
        }
        .map(String::from)
    })
    .expect("payment settings")
}

/// An app (web and workers) wired to the payments fake.
pub async fn spawn_billing_app(base: &str) -> TestApp {
    let p = payment_settings(base);
    spawn_app_with(move |s| s.payments = p).await
}

/// Starts a checkout through the API; the provider's approval URL.
pub async fn api_checkout(a: &Author, plan: &str, provider: &str) -> String {
    let res = a
        .api(
            "POST",
            "/api/v1/billing/checkout",
            Some(json!({"plan": plan, "provider": provider})),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    res.json()["redirect_url"]
        .as_str()
        .expect("url")
        .to_string()
}

/// Sends a webhook with the given headers and raw body.
pub async fn post_webhook(
    app_base: &str,
    path: &str,
    headers: &[(&str, String)],
    body: Vec<u8>,
) -> Response {
    let client = awc::Client::builder()
        .disable_redirects()
        .timeout(Duration::from_secs(30))
        .finish();
    let mut req = client
        .post(format!("{app_base}{path}"))
        .insert_header(("content-type", "application/json"));
    for (k, v) in headers {
        req = req.insert_header((*k, v.as_str()));
    }
    let mut res = req.send_body(body).await.expect("webhook sent");
    let body = res.body().limit(1 << 20).await.unwrap_or_default();
    Response {
        status: res.status().as_u16(),
        headers: Default::default(),
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// A PayPal event body.
pub fn paypal_event(event_id: &str, event_type: &str, subscription: &str) -> Value {
    let resource = if event_type == "PAYMENT.SALE.COMPLETED" {
        // The amount and custom id here must never be trusted: the subscription is read instead.
        json!({"id": "SALE-1", "billing_agreement_id": subscription, "amount": {"total": "0.01", "currency": "USD"}, "custom_id": "someone-else"})
    } else {
        json!({"id": subscription, "status": "ACTIVE", "plan_id": "P-FORGED", "custom_id": "someone-else"})
    };
    json!({"id": event_id, "event_type": event_type, "resource_type": "subscription", "resource": resource})
}

/// PayPal's transmission headers with the given signature.
pub fn paypal_headers(sig: &str) -> Vec<(&'static str, String)> {
    vec![
        ("paypal-transmission-id", "tx-1".into()),
        ("paypal-transmission-time", chrono::Utc::now().to_rfc3339()),
        ("paypal-transmission-sig", sig.into()),
        (
            "paypal-cert-url",
            "https://api.paypal.com/v1/notifications/certs/CERT-1".into(),
        ),
        ("paypal-auth-algo", "SHA256withRSA".into()),
    ]
}

pub async fn send_paypal(app_base: &str, event: &Value, sig: &str) -> Response {
    post_webhook(
        app_base,
        "/webhooks/paypal",
        &paypal_headers(sig),
        event.to_string().into_bytes(),
    )
    .await
}

/// A Mercado Pago notification, signed with `secret` at `ts` (Unix seconds).
pub async fn send_mp(
    app_base: &str,
    note_id: u64,
    kind: &str,
    data_id: &str,
    secret: &str,
    ts: i64,
) -> Response {
    let request_id = format!("req-{note_id}");
    let sig = buko::payments::mercadopago::sign(secret, data_id, &request_id, &ts.to_string());
    let body = json!({"id": note_id, "type": kind, "action": "updated", "live_mode": false, "data": {"id": data_id}});
    post_webhook(
        app_base,
        &format!("/webhooks/mercadopago?data.id={data_id}&type={kind}"),
        &[
            ("x-signature", format!("ts={ts},v1={sig}")),
            ("x-request-id", request_id),
        ],
        body.to_string().into_bytes(),
    )
    .await
}

pub fn user_plan(app: &TestApp, user_id: &str) -> String {
    use buko::db::schema::users;
    users::table
        .find(user_id)
        .select(users::plan)
        .first(&mut app.db())
        .expect("user")
}

/// Waits until the user's stored plan is `plan` (the queue acts on webhooks in the background).
pub async fn wait_plan(app: &TestApp, user_id: &str, plan: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while user_plan(app, user_id) != plan {
        assert!(
            Instant::now() < deadline,
            "plan never became {plan} (is {})",
            user_plan(app, user_id)
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until no billing event is left unprocessed.
pub async fn wait_events_done(app: &TestApp) {
    use buko::db::schema::billing_events;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let waiting: i64 = billing_events::table
            .filter(billing_events::status.eq("received"))
            .count()
            .get_result(&mut app.db())
            .expect("count");
        if waiting == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{waiting} billing events never processed"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `(from, to, reason)` of the user's plan changes, oldest first.
pub fn plan_changes(app: &TestApp, user_id: &str) -> Vec<(String, String, String)> {
    let mut rows =
        buko::db::repo::billing::plan_changes_of(&mut app.db(), user_id, 100).expect("audit");
    rows.reverse();
    rows.into_iter()
        .map(|e| {
            let d: Value = serde_json::from_str(&e.detail).expect("detail");
            let s = |k: &str| d[k].as_str().unwrap_or("").to_string();
            (s("from"), s("to"), s("reason"))
        })
        .collect()
}

/// `(status, outcome)` of every stored event.
pub fn events(app: &TestApp) -> Vec<(String, String, String)> {
    use buko::db::schema::billing_events;
    billing_events::table
        .order(billing_events::received_at.asc())
        .select((
            billing_events::event_id,
            billing_events::status,
            billing_events::outcome,
        ))
        .load(&mut app.db())
        .expect("events")
}
