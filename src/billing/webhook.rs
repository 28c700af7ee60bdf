//! Webhook deliveries from PayPal and Mercado Pago, accepted fast: checked for shape (and, for Mercado
//! Pago, its `x-signature` HMAC), stored once per delivery — `(provider, event id, body hash)` is
//! unique, so redeliveries and concurrent copies on any node add nothing — and handed to the queue
//! (`JobPayload::BillingEvent`) in the same transaction. PayPal's signature is verified by the job
//! (it needs a call to PayPal that may be slow or fail, and then the event waits for a retry).
//! Unknown event types are answered `ignored` and not stored. Logs name the event, never the payer.

use std::collections::HashMap;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::config::Settings;
use crate::db::repo::{self, billing::NewEvent};
use crate::db::{self, write_tx, DbError, DbPool};
use crate::payments::mercadopago::{verify_signature, SignatureError};
use crate::payments::paypal::{subscription_of, SIGNATURE_HEADERS};
use crate::queue::{enqueue, JobPayload, NewJob};

/// What became of a delivery (all answered 2xx).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ingested {
    /// Stored and queued.
    Accepted,
    /// The same delivery was stored before.
    Duplicate,
    /// An event type we do not act on.
    Ignored,
}

impl Ingested {
    pub fn as_str(&self) -> &'static str {
        match self {
            Ingested::Accepted => "accepted",
            Ingested::Duplicate => "duplicate",
            Ingested::Ignored => "ignored",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// The provider is not configured here (404: nothing listens).
    #[error("{0} is not configured")]
    NotConfigured(&'static str),
    #[error("{0}")]
    Malformed(String),
    #[error("{0}")]
    BadSignature(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// The PayPal event types acted on.
pub const PAYPAL_TYPES: [&str; 6] = [
    "BILLING.SUBSCRIPTION.ACTIVATED",
    "BILLING.SUBSCRIPTION.UPDATED",
    "BILLING.SUBSCRIPTION.CANCELLED",
    "BILLING.SUBSCRIPTION.SUSPENDED",
    "BILLING.SUBSCRIPTION.EXPIRED",
    "PAYMENT.SALE.COMPLETED",
];

/// The Mercado Pago notification types acted on.
pub const MERCADOPAGO_TYPES: [&str; 3] = ["subscription_preapproval", "preapproval", "payment"];

fn sha256_hex(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

/// A short identifier from the JSON (string or number), bounded so nothing huge is stored as a key.
fn ident(v: &Value) -> Option<String> {
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    (!s.is_empty() && s.len() <= 128 && s.chars().all(|c| c.is_ascii_graphic())).then_some(s)
}

async fn store(
    db_pool: &DbPool,
    provider: &'static str,
    event_id: String,
    event_type: String,
    resource_id: String,
    headers: String,
    body: Vec<u8>,
) -> Result<Ingested, WebhookError> {
    let sha = sha256_hex(&body);
    let payload = String::from_utf8_lossy(&body).into_owned();
    let (eid, ety, rid) = (event_id.clone(), event_type.clone(), resource_id.clone());
    let stored = db::run(db_pool, move |c| {
        write_tx(c, |c| {
            let id = repo::billing::insert_event(
                c,
                NewEvent {
                    provider,
                    event_id: &eid,
                    body_sha256: &sha,
                    event_type: &ety,
                    resource_id: &rid,
                    headers: &headers,
                    payload: &payload,
                },
            )?;
            if let Some(id) = &id {
                enqueue(
                    c,
                    NewJob {
                        payload: JobPayload::BillingEvent {
                            event_id: id.clone(),
                        },
                        run_at: None,
                        max_attempts: 30,
                    },
                )?;
            }
            Ok::<_, DbError>(id)
        })
    })
    .await?;
    let outcome = if stored.is_some() {
        Ingested::Accepted
    } else {
        Ingested::Duplicate
    };
    log::info!(target: "buko::billing", provider = provider, event_id = event_id.as_str(), event_type = event_type.as_str(), resource = resource_id.as_str(), outcome = outcome.as_str(); "webhook received");
    Ok(outcome)
}

/// A PayPal delivery: the five transmission headers, a JSON event with an id and a type.
pub async fn ingest_paypal(
    db_pool: &DbPool,
    settings: &Settings,
    headers: &HashMap<String, String>,
    body: Vec<u8>,
) -> Result<Ingested, WebhookError> {
    if settings.payments.paypal.is_none() {
        return Err(WebhookError::NotConfigured("PayPal"));
    }
    let mut signed = serde_json::Map::new();
    for h in SIGNATURE_HEADERS {
        let v = headers
            .get(h)
            .filter(|v| !v.is_empty() && v.len() <= 2048)
            .ok_or_else(|| WebhookError::BadSignature(format!("missing header {h}")))?;
        signed.insert(h.to_string(), Value::String(v.clone()));
    }
    let event: Value = serde_json::from_slice(&body)
        .map_err(|_| WebhookError::Malformed("the body is not a JSON event".into()))?;
    let (Some(event_id), Some(event_type)) = (ident(&event["id"]), ident(&event["event_type"]))
    else {
        return Err(WebhookError::Malformed(
            "an event needs an id and an event_type".into(),
        ));
    };
    if !PAYPAL_TYPES.contains(&event_type.as_str()) {
        log::info!(target: "buko::billing", provider = "paypal", event_id = event_id.as_str(), event_type = event_type.as_str(); "webhook ignored");
        return Ok(Ingested::Ignored);
    }
    let resource = subscription_of(&event_type, &event)
        .ok_or_else(|| WebhookError::Malformed("the event names no subscription".into()))?;
    store(
        db_pool,
        "paypal",
        event_id,
        event_type,
        resource,
        Value::Object(signed).to_string(),
        body,
    )
    .await
}

/// A Mercado Pago delivery: signature first, then the notification's type and resource id.
/// `query_data_id` is the `data.id` query parameter (what Mercado Pago signs), else the body's.
pub async fn ingest_mercadopago(
    db_pool: &DbPool,
    settings: &Settings,
    headers: &HashMap<String, String>,
    query: &HashMap<String, String>,
    body: Vec<u8>,
) -> Result<Ingested, WebhookError> {
    let mp = settings
        .payments
        .mercadopago
        .as_ref()
        .ok_or(WebhookError::NotConfigured("Mercado Pago"))?;
    let note: Value = serde_json::from_slice(&body)
        .map_err(|_| WebhookError::Malformed("the body is not a JSON notification".into()))?;
    let data_id = query
        .get("data.id")
        .cloned()
        .and_then(|s| ident(&Value::String(s)))
        .or_else(|| ident(&note["data"]["id"]))
        .ok_or_else(|| WebhookError::Malformed("the notification has no data.id".into()))?;
    let sig = headers.get("x-signature").map(String::as_str).unwrap_or("");
    let request_id = headers
        .get("x-request-id")
        .map(String::as_str)
        .unwrap_or("");
    if sig.is_empty() || request_id.is_empty() {
        return Err(WebhookError::BadSignature(
            "missing x-signature or x-request-id".into(),
        ));
    }
    let now = chrono::Utc::now().timestamp();
    verify_signature(
        mp.webhook_secret.expose(),
        sig,
        request_id,
        &data_id,
        now,
        settings.payments.webhook_tolerance_secs,
    )
    .map_err(|e: SignatureError| WebhookError::BadSignature(e.to_string()))?;
    let kind = ident(&note["type"])
        .or_else(|| ident(&note["topic"]))
        .or_else(|| query.get("type").cloned())
        .unwrap_or_default();
    if !MERCADOPAGO_TYPES.contains(&kind.as_str()) {
        log::info!(target: "buko::billing", provider = "mercadopago", event_type = kind.as_str(); "webhook ignored");
        return Ok(Ingested::Ignored);
    }
    let event_id = ident(&note["id"]).unwrap_or_else(|| format!("{kind}:{data_id}:{request_id}"));
    store(
        db_pool,
        "mercadopago",
        event_id,
        kind,
        data_id,
        "{}".into(),
        body,
    )
    .await
}
