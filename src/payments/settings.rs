//! Payment settings from the environment (README "Billing"): a provider is configured when its
//! credentials are set; the paid plans' provider plan ids seed the `plans` table at first start.

use crate::secret::Secret;

/// PayPal Subscriptions (`PAYPAL_CLIENT_ID`, `PAYPAL_CLIENT_SECRET`, `PAYPAL_WEBHOOK_ID`,
/// `BUKO_PAYPAL_API_BASE`).
#[derive(Clone, Debug)]
pub struct PayPalSettings {
    pub client_id: String,
    pub client_secret: Secret,
    /// The webhook's id at PayPal (part of every signature verification).
    pub webhook_id: String,
    /// Default the live API; the sandbox (`https://api-m.sandbox.paypal.com`) or a fake by URL.
    pub api_base: String,
}

/// Mercado Pago preapprovals (`MP_ACCESS_TOKEN`, `MP_WEBHOOK_SECRET`, `BUKO_MERCADOPAGO_API_BASE`).
#[derive(Clone, Debug)]
pub struct MercadoPagoSettings {
    pub access_token: Secret,
    /// Keys the `x-signature` HMAC of webhooks.
    pub webhook_secret: Secret,
    pub api_base: String,
}

#[derive(Clone, Debug, Default)]
pub struct PaymentSettings {
    pub paypal: Option<PayPalSettings>,
    pub mercadopago: Option<MercadoPagoSettings>,
    /// `(plan, provider, provider plan id)` from `BUKO_PLAN_{PRO,STUDIO}_{PAYPAL,MP}_ID`.
    pub plan_ids: Vec<(String, String, String)>,
    /// Oldest accepted Mercado Pago signature timestamp, in seconds (`BUKO_MP_WEBHOOK_TOLERANCE_SECS`,
    /// default 300): older deliveries are replays.
    pub webhook_tolerance_secs: i64,
}

pub const PAYPAL_LIVE: &str = "https://api-m.paypal.com";
pub const MERCADOPAGO_LIVE: &str = "https://api.mercadopago.com";

/// A missing or malformed payment setting.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PaymentSettingsError {
    #[error(
        "PAYPAL_WEBHOOK_ID is required with PAYPAL_CLIENT_ID (webhooks cannot be verified without it)"
    )]
    PayPalWebhookId,
    #[error("set both PAYPAL_CLIENT_ID and PAYPAL_CLIENT_SECRET")]
    PayPalHalfSet,
    #[error(
        "MP_WEBHOOK_SECRET is required with MP_ACCESS_TOKEN (webhooks cannot be verified without it)"
    )]
    MercadoPagoWebhookSecret,
    #[error("BUKO_MP_WEBHOOK_TOLERANCE_SECS={0:?} is not a number")]
    Tolerance(String),
}

impl PaymentSettings {
    pub fn from_env() -> Result<PaymentSettings, PaymentSettingsError> {
        Self::from_lookup(|k| {
            std::env::var(k)
                .ok()
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        })
    }

    pub fn from_lookup(
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<PaymentSettings, PaymentSettingsError> {
        let base = |name: &str, default: &str| {
            var(name)
                .unwrap_or_else(|| default.to_string())
                .trim_end_matches('/')
                .to_string()
        };
        let paypal = match (var("PAYPAL_CLIENT_ID"), var("PAYPAL_CLIENT_SECRET")) {
            (Some(id), Some(secret)) => Some(PayPalSettings {
                client_id: id,
                client_secret: Secret::new(secret),
                webhook_id: var("PAYPAL_WEBHOOK_ID")
                    .ok_or(PaymentSettingsError::PayPalWebhookId)?,
                api_base: base("BUKO_PAYPAL_API_BASE", PAYPAL_LIVE),
            }),
            (None, None) => None,
            _ => return Err(PaymentSettingsError::PayPalHalfSet),
        };
        let mercadopago = match var("MP_ACCESS_TOKEN") {
            Some(token) => Some(MercadoPagoSettings {
                access_token: Secret::new(token),
                webhook_secret: Secret::new(
                    var("MP_WEBHOOK_SECRET")
                        .ok_or(PaymentSettingsError::MercadoPagoWebhookSecret)?,
                ),
                api_base: base("BUKO_MERCADOPAGO_API_BASE", MERCADOPAGO_LIVE),
            }),
            None => None,
        };
        let mut plan_ids = vec![];
        for plan in ["pro", "studio"] {
            for (provider, suffix) in [("paypal", "PAYPAL"), ("mercadopago", "MP")] {
                let name = format!("BUKO_PLAN_{}_{suffix}_ID", plan.to_ascii_uppercase());
                if let Some(id) = var(&name) {
                    plan_ids.push((plan.to_string(), provider.to_string(), id));
                }
            }
        }
        let webhook_tolerance_secs = match var("BUKO_MP_WEBHOOK_TOLERANCE_SECS") {
            None => 300,
            Some(v) => v.parse().map_err(|_| PaymentSettingsError::Tolerance(v))?,
        };
        Ok(PaymentSettings {
            paypal,
            mercadopago,
            plan_ids,
            webhook_tolerance_secs,
        })
    }

    pub fn configured(&self, provider: super::Provider) -> bool {
        match provider {
            super::Provider::PayPal => self.paypal.is_some(),
            super::Provider::MercadoPago => self.mercadopago.is_some(),
        }
    }

    pub fn any_configured(&self) -> bool {
        self.paypal.is_some() || self.mercadopago.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn providers_are_configured_by_their_credentials_and_hide_secrets() {
        let env = |k: &str| {
            match k {
                "PAYPAL_CLIENT_ID" => Some("cid"),
                "PAYPAL_CLIENT_SECRET" => Some("pp-secret-value"),
                "PAYPAL_WEBHOOK_ID" => Some("WH-1"),
                "MP_ACCESS_TOKEN" => Some("mp-token-value"),
                "MP_WEBHOOK_SECRET" => Some("mp-hook-secret"),
                "BUKO_PLAN_PRO_MP_ID" => Some("2c93"),
                _ => None,
            }
            .map(String::from)
        };
        let s = PaymentSettings::from_lookup(env).expect("settings");
        assert_eq!(
            s.paypal.as_ref().map(|p| p.api_base.as_str()),
            Some(PAYPAL_LIVE)
        );
        assert!(s.mercadopago.is_some());
        assert_eq!(
            s.plan_ids,
            vec![("pro".into(), "mercadopago".into(), "2c93".into())]
        );
        let shown = format!("{s:?}");
        for secret in ["pp-secret-value", "mp-token-value", "mp-hook-secret"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        let none = PaymentSettings::from_lookup(|_| None).expect("empty");
        assert!(!none.any_configured());
        assert_eq!(
            PaymentSettings::from_lookup(|k| (k == "PAYPAL_CLIENT_ID").then(|| "x".into())).err(),
            Some(PaymentSettingsError::PayPalHalfSet)
        );
    }
}
