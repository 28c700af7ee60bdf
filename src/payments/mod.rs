//! Payment provider adapters: PayPal Subscriptions and Mercado Pago preapprovals over awc, their
//! settings, and the provider-neutral view of a subscription (`SubscriptionState`) the billing use
//! cases act on. No SQL and no plan rules here; secrets stay in `Secret` and never reach a log or an
//! error message. awc is not `Send`: each thread builds its own client (`http::client`).

pub mod http;
pub mod mercadopago;
pub mod paypal;
pub mod settings;

use chrono::NaiveDateTime;

use crate::billing::status::SubscriptionStatus;

/// A provider id as one URL path segment: RFC 3986 unreserved characters pass, anything else is
/// percent-encoded, so an id from a webhook can never change the path it is put in.
pub(crate) fn path_segment(id: &str) -> String {
    id.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub use settings::{MercadoPagoSettings, PayPalSettings, PaymentSettings, PaymentSettingsError};

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Provider {
    PayPal,
    MercadoPago,
}

impl Provider {
    pub const ALL: [Provider; 2] = [Provider::PayPal, Provider::MercadoPago];

    pub fn as_str(self) -> &'static str {
        match self {
            Provider::PayPal => "paypal",
            Provider::MercadoPago => "mercadopago",
        }
    }

    pub fn parse(s: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|p| p.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Provider::PayPal => "PayPal",
            Provider::MercadoPago => "Mercado Pago",
        }
    }
}

/// A failure talking to a provider.
#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    /// Network trouble, a timeout, 429 or 5xx: worth trying again later.
    #[error("the payment provider is unavailable: {0}")]
    Unavailable(String),
    /// The provider refused the request (4xx other than 404 / 429).
    #[error("the payment provider refused the request ({status}): {message}")]
    Rejected { status: u16, message: String },
    #[error("the payment provider does not know this resource")]
    NotFound,
    /// An answer we cannot read.
    #[error("unexpected answer from the payment provider: {0}")]
    Invalid(String),
}

impl PaymentError {
    /// Ours or the provider's trouble, not the request's: retry later.
    pub fn is_temporary(&self) -> bool {
        matches!(self, PaymentError::Unavailable(_))
    }
}

/// What a provider's subscription resource (fetched with our credentials) says now.
#[derive(Clone, Debug, PartialEq)]
pub struct SubscriptionState {
    pub provider: Provider,
    /// The provider's id of the subscription.
    pub id: String,
    /// The provider's state, normalized.
    pub status: SubscriptionStatus,
    /// Our user id as we gave it at checkout (`custom_id` / `external_reference`).
    pub user_ref: Option<String>,
    /// The provider's plan id, when the subscription is on one.
    pub provider_plan_id: Option<String>,
    /// When the paid period ends (next renewal), when the provider says.
    pub period_end: Option<NaiveDateTime>,
}

/// A created subscription: its provider id and where to send the payer to approve it.
#[derive(Clone, Debug, PartialEq)]
pub struct Created {
    pub id: String,
    pub approval_url: String,
}

/// Parses an RFC 3339 time as UTC.
pub fn parse_time(s: &str) -> Option<NaiveDateTime> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.naive_utc())
}
