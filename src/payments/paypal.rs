//! PayPal Subscriptions: an OAuth2 client-credentials token (cached until shortly before it expires),
//! create a subscription and send the payer to its `approve` link, read and cancel one, and verify a
//! webhook delivery with `POST /v1/notifications/verify-webhook-signature` (only `SUCCESS` counts).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::http::{client, send, Body};
use super::{parse_time, Created, PayPalSettings, PaymentError, Provider, SubscriptionState};
use crate::billing::status::SubscriptionStatus;

/// Tokens by API base and client id (shared by the node's threads; a token is a plain string).
static TOKENS: Mutex<Option<HashMap<String, (String, Instant)>>> = Mutex::new(None);

/// The transmission headers PayPal signs a delivery with (all required).
pub const SIGNATURE_HEADERS: [&str; 5] = [
    "paypal-transmission-id",
    "paypal-transmission-time",
    "paypal-transmission-sig",
    "paypal-cert-url",
    "paypal-auth-algo",
];

pub struct PayPal<'a> {
    pub settings: &'a PayPalSettings,
}

impl PayPal<'_> {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.settings.api_base)
    }

    async fn token(&self) -> Result<String, PaymentError> {
        let key = format!("{}|{}", self.settings.api_base, self.settings.client_id);
        if let Some((t, until)) = TOKENS
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .and_then(|m| m.get(&key).cloned())
        {
            if until > Instant::now() {
                return Ok(t);
            }
        }
        let req = client().post(self.url("/v1/oauth2/token")).basic_auth(
            &self.settings.client_id,
            self.settings.client_secret.expose(),
        );
        let (_, body) = send(req, Body::Form(&[("grant_type", "client_credentials")]))
            .await
            .map_err(|e| match e {
                // Bad credentials are an operator problem; say so without echoing them.
                PaymentError::Rejected { status, .. } => PaymentError::Rejected {
                    status,
                    message: "PayPal refused the client credentials".into(),
                },
                other => other,
            })?;
        let token = body["access_token"]
            .as_str()
            .ok_or_else(|| PaymentError::Invalid("no access_token".into()))?
            .to_string();
        let ttl = body["expires_in"]
            .as_u64()
            .unwrap_or(300)
            .saturating_sub(60);
        TOKENS
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_or_insert_with(HashMap::new)
            .insert(
                key,
                (token.clone(), Instant::now() + Duration::from_secs(ttl)),
            );
        Ok(token)
    }

    async fn call(
        &self,
        method: awc::http::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, PaymentError> {
        let token = self.token().await?;
        let req = client().request(method, self.url(path)).bearer_auth(token);
        let (_, json) = send(req, body.map_or(Body::None, Body::Json)).await?;
        Ok(json)
    }

    /// Creates the subscription (`custom_id` = our user id) and returns its approval link.
    pub async fn create_subscription(
        &self,
        plan_id: &str,
        user_id: &str,
        return_url: &str,
        cancel_url: &str,
    ) -> Result<Created, PaymentError> {
        let body = json!({
            "plan_id": plan_id,
            "custom_id": user_id,
            "application_context": {
                "brand_name": "Buko",
                "user_action": "SUBSCRIBE_NOW",
                "shipping_preference": "NO_SHIPPING",
                "return_url": return_url,
                "cancel_url": cancel_url,
            },
        });
        let res = self
            .call(
                awc::http::Method::POST,
                "/v1/billing/subscriptions",
                Some(&body),
            )
            .await?;
        let id = res["id"]
            .as_str()
            .ok_or_else(|| PaymentError::Invalid("subscription without id".into()))?;
        let approve = res["links"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|l| l["rel"] == "approve")
            .and_then(|l| l["href"].as_str())
            .ok_or_else(|| PaymentError::Invalid("subscription without an approve link".into()))?;
        Ok(Created {
            id: id.to_string(),
            approval_url: approve.to_string(),
        })
    }

    pub async fn get_subscription(&self, id: &str) -> Result<SubscriptionState, PaymentError> {
        let path = format!("/v1/billing/subscriptions/{}", super::path_segment(id));
        let res = self.call(awc::http::Method::GET, &path, None).await?;
        state(&res)
    }

    pub async fn cancel(&self, id: &str) -> Result<(), PaymentError> {
        let path = format!(
            "/v1/billing/subscriptions/{}/cancel",
            super::path_segment(id)
        );
        let body = json!({"reason": "Cancelled by the subscriber in Buko"});
        match self.call(awc::http::Method::POST, &path, Some(&body)).await {
            // 422 SUBSCRIPTION_STATUS_INVALID: already cancelled; the state read afterwards decides.
            Ok(_) | Err(PaymentError::Rejected { status: 422, .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Asks PayPal whether this delivery is genuine. `Ok(true)` only for `SUCCESS`.
    pub async fn verify(
        &self,
        headers: &HashMap<String, String>,
        event: &Value,
    ) -> Result<bool, PaymentError> {
        let h = |k: &str| headers.get(k).cloned().unwrap_or_default();
        let body = json!({
            "auth_algo": h("paypal-auth-algo"),
            "cert_url": h("paypal-cert-url"),
            "transmission_id": h("paypal-transmission-id"),
            "transmission_sig": h("paypal-transmission-sig"),
            "transmission_time": h("paypal-transmission-time"),
            "webhook_id": self.settings.webhook_id,
            "webhook_event": event,
        });
        let res = self
            .call(
                awc::http::Method::POST,
                "/v1/notifications/verify-webhook-signature",
                Some(&body),
            )
            .await?;
        Ok(res["verification_status"] == "SUCCESS")
    }
}

/// The normalized state of a subscription resource.
pub fn state(res: &Value) -> Result<SubscriptionState, PaymentError> {
    let id = res["id"]
        .as_str()
        .ok_or_else(|| PaymentError::Invalid("subscription without id".into()))?;
    let status = match res["status"].as_str().unwrap_or("") {
        "ACTIVE" => SubscriptionStatus::Active,
        "SUSPENDED" => SubscriptionStatus::Suspended,
        "CANCELLED" => SubscriptionStatus::Cancelled,
        "EXPIRED" => SubscriptionStatus::Expired,
        "APPROVAL_PENDING" | "APPROVED" => SubscriptionStatus::Pending,
        other => return Err(PaymentError::Invalid(format!("unknown status {other:?}"))),
    };
    Ok(SubscriptionState {
        provider: Provider::PayPal,
        id: id.to_string(),
        status,
        user_ref: res["custom_id"].as_str().map(str::to_string),
        provider_plan_id: res["plan_id"].as_str().map(str::to_string),
        period_end: res["billing_info"]["next_billing_time"]
            .as_str()
            .and_then(parse_time),
    })
}

/// The subscription an event is about: the resource itself for `BILLING.SUBSCRIPTION.*`, the sale's
/// billing agreement for `PAYMENT.SALE.COMPLETED`. `None` for types we do not act on.
pub fn subscription_of(event_type: &str, event: &Value) -> Option<String> {
    let r = &event["resource"];
    let id = match event_type {
        "BILLING.SUBSCRIPTION.ACTIVATED"
        | "BILLING.SUBSCRIPTION.UPDATED"
        | "BILLING.SUBSCRIPTION.CANCELLED"
        | "BILLING.SUBSCRIPTION.SUSPENDED"
        | "BILLING.SUBSCRIPTION.EXPIRED" => r["id"].as_str(),
        "PAYMENT.SALE.COMPLETED" => r["billing_agreement_id"].as_str(),
        _ => None,
    }?;
    (!id.is_empty() && id.len() <= 128).then(|| id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_subscription_and_the_subscription_of_an_event() {
        let s = state(
            &json!({"id": "I-1", "status": "ACTIVE", "custom_id": "u1", "plan_id": "P-9",
            "billing_info": {"next_billing_time": "2026-12-27T10:00:00Z"}}),
        )
        .expect("state");
        assert_eq!(s.status, SubscriptionStatus::Active);
        assert_eq!(s.user_ref.as_deref(), Some("u1"));
        assert_eq!(
            s.period_end.map(|t| t.to_string()).as_deref(),
            Some("2026-12-27 10:00:00")
        );
        assert!(state(&json!({"id": "I-1", "status": "WEIRD"})).is_err());
        let sale = json!({"resource": {"id": "S-1", "billing_agreement_id": "I-1", "amount": {"total": "0.01"}}});
        assert_eq!(
            subscription_of("PAYMENT.SALE.COMPLETED", &sale).as_deref(),
            Some("I-1")
        );
        assert_eq!(subscription_of("CHECKOUT.ORDER.APPROVED", &sale), None);
        assert_eq!(super::super::path_segment("I-1/../x"), "I-1%2F..%2Fx");
    }
}
