//! Mercado Pago preapprovals (subscriptions): create one and send the payer to its `init_point`, read
//! and cancel one, read a payment, and verify a webhook's `x-signature`: `ts=…,v1=…` where `v1` is
//! HMAC-SHA256 with the webhook secret over `id:{data.id};request-id:{x-request-id};ts:{ts};`,
//! compared in constant time, with stale timestamps refused as replays.

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use super::http::{client, send, Body};
use super::{parse_time, Created, MercadoPagoSettings, PaymentError, Provider, SubscriptionState};
use crate::billing::status::SubscriptionStatus;

pub struct MercadoPago<'a> {
    pub settings: &'a MercadoPagoSettings,
}

/// What a checkout asks for: a plan at Mercado Pago, or an amount billed monthly.
pub enum Recurrence<'a> {
    Plan(&'a str),
    Monthly {
        amount_cents: i64,
        currency: &'a str,
    },
}

impl MercadoPago<'_> {
    async fn call(
        &self,
        method: awc::http::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, PaymentError> {
        let req = client()
            .request(method, format!("{}{path}", self.settings.api_base))
            .bearer_auth(self.settings.access_token.expose());
        let (_, json) = send(req, body.map_or(Body::None, Body::Json)).await?;
        Ok(json)
    }

    /// Creates the preapproval (`external_reference` = our user id) and returns its `init_point`.
    pub async fn create_preapproval(
        &self,
        recurrence: Recurrence<'_>,
        reason: &str,
        payer_email: &str,
        user_id: &str,
        back_url: &str,
    ) -> Result<Created, PaymentError> {
        let mut body = json!({
            "reason": reason,
            "payer_email": payer_email,
            "external_reference": user_id,
            "back_url": back_url,
            "status": "pending",
        });
        match recurrence {
            Recurrence::Plan(id) => body["preapproval_plan_id"] = json!(id),
            Recurrence::Monthly {
                amount_cents,
                currency,
            } => {
                body["auto_recurring"] = json!({
                    "frequency": 1,
                    "frequency_type": "months",
                    "transaction_amount": amount_cents as f64 / 100.0,
                    "currency_id": currency,
                })
            }
        }
        let res = self
            .call(awc::http::Method::POST, "/preapproval", Some(&body))
            .await?;
        let id = res["id"]
            .as_str()
            .ok_or_else(|| PaymentError::Invalid("preapproval without id".into()))?;
        let url = res["init_point"]
            .as_str()
            .ok_or_else(|| PaymentError::Invalid("preapproval without init_point".into()))?;
        Ok(Created {
            id: id.to_string(),
            approval_url: url.to_string(),
        })
    }

    pub async fn get_preapproval(&self, id: &str) -> Result<SubscriptionState, PaymentError> {
        let res = self
            .call(
                awc::http::Method::GET,
                &format!("/preapproval/{}", super::path_segment(id)),
                None,
            )
            .await?;
        state(&res)
    }

    pub async fn cancel(&self, id: &str) -> Result<(), PaymentError> {
        let body = json!({"status": "cancelled"});
        self.call(
            awc::http::Method::PUT,
            &format!("/preapproval/{}", super::path_segment(id)),
            Some(&body),
        )
        .await
        .map(|_| ())
    }

    /// A payment: `(status, external_reference, preapproval id when the payment says)`.
    pub async fn get_payment(
        &self,
        id: &str,
    ) -> Result<(String, Option<String>, Option<String>), PaymentError> {
        let res = self
            .call(
                awc::http::Method::GET,
                &format!("/v1/payments/{}", super::path_segment(id)),
                None,
            )
            .await?;
        let s = |v: &Value| v.as_str().map(str::to_string);
        Ok((
            s(&res["status"]).unwrap_or_default(),
            s(&res["external_reference"]),
            s(&res["metadata"]["preapproval_id"]).or_else(|| s(&res["preapproval_id"])),
        ))
    }
}

/// The normalized state of a preapproval.
pub fn state(res: &Value) -> Result<SubscriptionState, PaymentError> {
    let id = res["id"]
        .as_str()
        .ok_or_else(|| PaymentError::Invalid("preapproval without id".into()))?;
    let status = match res["status"].as_str().unwrap_or("") {
        "authorized" => SubscriptionStatus::Active,
        "paused" => SubscriptionStatus::Suspended,
        "cancelled" => SubscriptionStatus::Cancelled,
        "finished" => SubscriptionStatus::Expired,
        "pending" => SubscriptionStatus::Pending,
        other => return Err(PaymentError::Invalid(format!("unknown status {other:?}"))),
    };
    Ok(SubscriptionState {
        provider: Provider::MercadoPago,
        id: id.to_string(),
        status,
        user_ref: res["external_reference"].as_str().map(str::to_string),
        provider_plan_id: res["preapproval_plan_id"].as_str().map(str::to_string),
        period_end: res["next_payment_date"].as_str().and_then(parse_time),
    })
}

/// Why a signature was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing or malformed x-signature")]
    Malformed,
    #[error("the signature does not match")]
    Mismatch,
    #[error("the signature is too old (replayed?)")]
    Stale,
}

/// The manifest Mercado Pago signs. An alphanumeric `data.id` is signed in lower case.
pub fn manifest(data_id: &str, request_id: &str, ts: &str) -> String {
    let id = if data_id.chars().all(|c| c.is_ascii_alphanumeric()) {
        data_id.to_ascii_lowercase()
    } else {
        data_id.to_string()
    };
    format!("id:{id};request-id:{request_id};ts:{ts};")
}

/// Hex HMAC-SHA256 of the manifest (what `v1` must be).
pub fn sign(secret: &str, data_id: &str, request_id: &str, ts: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(manifest(data_id, request_id, ts).as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Verifies `x-signature` for a notification about `data_id`, at `now` (Unix seconds).
pub fn verify_signature(
    secret: &str,
    x_signature: &str,
    request_id: &str,
    data_id: &str,
    now: i64,
    tolerance_secs: i64,
) -> Result<(), SignatureError> {
    let (mut ts, mut v1) = (None, None);
    for part in x_signature.split(',') {
        match part.trim().split_once('=') {
            Some(("ts", v)) => ts = Some(v.trim()),
            Some(("v1", v)) => v1 = Some(v.trim()),
            _ => {}
        }
    }
    let (Some(ts), Some(v1)) = (ts, v1) else {
        return Err(SignatureError::Malformed);
    };
    let when: i64 = ts.parse().map_err(|_| SignatureError::Malformed)?;
    // Seconds, or milliseconds as some deliveries send.
    let when = if when > 100_000_000_000 {
        when / 1000
    } else {
        when
    };
    let expected = hex::decode(v1).map_err(|_| SignatureError::Mismatch)?;
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).map_err(|_| SignatureError::Mismatch)?;
    mac.update(manifest(data_id, request_id, ts).as_bytes());
    // `verify_slice` compares in constant time.
    mac.verify_slice(&expected)
        .map_err(|_| SignatureError::Mismatch)?;
    if (now - when).abs() > tolerance_secs {
        return Err(SignatureError::Stale);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_checked_for_content_and_age() {
        let v1 = sign("s3cret", "ABC123", "req-1", "1700000000");
        let header = format!("ts=1700000000,v1={v1}");
        assert_eq!(
            verify_signature("s3cret", &header, "req-1", "ABC123", 1_700_000_010, 300),
            Ok(())
        );
        // The manifest lower-cases an alphanumeric id.
        assert_eq!(manifest("ABC123", "r", "1"), "id:abc123;request-id:r;ts:1;");
        assert_eq!(
            verify_signature("other", &header, "req-1", "ABC123", 1_700_000_010, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature("s3cret", &header, "req-2", "ABC123", 1_700_000_010, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature("s3cret", &header, "req-1", "ABC124", 1_700_000_010, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_signature("s3cret", &header, "req-1", "ABC123", 1_700_009_000, 300),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify_signature("s3cret", "v1=abc", "req-1", "ABC123", 0, 300),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify_signature("s3cret", "ts=1,v1=zz", "req-1", "ABC123", 1, 300),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn reads_a_preapproval() {
        let s = state(
            &json!({"id": "pa1", "status": "authorized", "external_reference": "u1",
            "preapproval_plan_id": "2c93", "next_payment_date": "2026-12-27T10:00:00.000-03:00"}),
        )
        .expect("state");
        assert_eq!(s.status, SubscriptionStatus::Active);
        assert_eq!(
            s.period_end.map(|t| t.to_string()).as_deref(),
            Some("2026-12-27 13:00:00")
        );
    }
}
