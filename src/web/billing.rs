//! `/billing`: the author's plan, subscription (status, next renewal, cancel), usage this hour and
//! this month, the plans on sale with a checkout button per configured provider, and the history of
//! plan changes. Thin door over `billing::checkout` (the same functions as `/api/v1/billing`).
//! Checkout answers a redirect to the provider's approval page; `/billing/return` is where the
//! provider sends the payer back (the subscription is synced at once; the webhook confirms it too).

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::billing::checkout::{self, Overview};
use crate::db::models::AuditEntry;
use crate::db::repo::plans::Plan;
use crate::error::AppError;
use crate::payments::Provider;
use crate::state::AppState;
use crate::web::books::review::PlainForm;
use crate::web::render::{content_security_policy, html, see_other};
use crate::web::session::{CsrfForm, CsrfProtected, CurrentUser, PageCtx};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/billing", web::get().to(show))
        .route("/billing/checkout", web::post().to(start_checkout))
        .route("/billing/cancel", web::post().to(cancel))
        .route("/billing/return", web::get().to(came_back));
}

/// A plan as the page shows it.
pub struct PlanView {
    pub plan: Plan,
    pub current: bool,
    /// `(provider id, label, price text)` for each configured provider that sells this plan.
    pub offers: Vec<(&'static str, &'static str, String)>,
}

/// A plan change in the history.
pub struct ChangeView {
    pub at: String,
    pub from: String,
    pub to: String,
    pub reason: String,
}

#[derive(Template)]
#[template(path = "billing.html")]
struct BillingPage {
    page: PageCtx,
    o: Overview,
    plans: Vec<PlanView>,
    history: Vec<ChangeView>,
    notice: Option<&'static str>,
}

impl BillingPage {
    fn date(t: Option<chrono::NaiveDateTime>) -> String {
        t.map(|t| t.format("%Y-%m-%d").to_string())
            .unwrap_or_default()
    }
    fn renews(&self) -> String {
        Self::date(self.o.renews_at())
    }
    fn ends(&self) -> String {
        Self::date(self.o.ends_at())
    }
    fn provider_label(&self, id: &str) -> &'static str {
        Provider::parse(id).map_or("", Provider::label)
    }
    fn status_key(&self) -> &'static str {
        match self.o.status() {
            "active" => "billing.status_active",
            "suspended" => "billing.status_suspended",
            "cancelled" => "billing.status_cancelled",
            "operator" => "billing.status_operator",
            _ => "billing.status_free",
        }
    }
}

#[derive(Deserialize)]
struct Flags {
    #[serde(default)]
    returned: Option<String>,
    #[serde(default)]
    cancelled: Option<String>,
}

fn offers(plan: &Plan, o: &Overview) -> Vec<(&'static str, &'static str, String)> {
    let mut out = vec![];
    for p in &o.providers {
        let (cents, currency, sold) = match p {
            Provider::PayPal => (
                plan.paypal_price_cents,
                &plan.paypal_currency,
                plan.paypal_plan_id.is_some(),
            ),
            Provider::MercadoPago => (
                plan.mercadopago_price_cents,
                &plan.mercadopago_currency,
                plan.mercadopago_plan_id.is_some() || plan.mercadopago_price_cents > 0,
            ),
        };
        if sold && cents > 0 {
            out.push((p.as_str(), p.label(), Plan::price_text(cents, currency)));
        }
    }
    out
}

fn change_view(e: &AuditEntry) -> ChangeView {
    let d: serde_json::Value = serde_json::from_str(&e.detail).unwrap_or_default();
    let s = |k: &str| d[k].as_str().unwrap_or("").to_string();
    ChangeView {
        at: e.created_at.format("%Y-%m-%d %H:%M").to_string(),
        from: s("from"),
        to: s("to"),
        reason: s("reason"),
    }
}

async fn show(
    page: PageCtx,
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
    flags: web::Query<Flags>,
) -> Result<HttpResponse, AppError> {
    let o = checkout::overview(&state.db, &state.settings, &user).await?;
    let plans = o
        .plans
        .iter()
        .map(|p| PlanView {
            // A checkout is open while no subscription is running (a cancelled one may be renewed).
            offers: if !o.can_cancel() && (p.id != o.plan.id || o.status() == "cancelled") {
                offers(p, &o)
            } else {
                vec![]
            },
            current: p.id == o.plan.id,
            plan: p.clone(),
        })
        .collect();
    let history = o.history.iter().map(change_view).collect();
    let notice = if flags.returned.is_some() {
        Some("billing.returned")
    } else if flags.cancelled.is_some() {
        Some("billing.cancelled_notice")
    } else {
        None
    };
    let mut res = html(
        StatusCode::OK,
        &BillingPage {
            page,
            o,
            plans,
            history,
            notice,
        },
    )?;
    // A checkout form is answered by a redirect to the provider's approval page, and browsers hold
    // that redirect to the form page's own `form-action`: this page allows the providers' pages.
    let policy = content_security_policy(&checkout_form_action(&state.settings.payments));
    if let Ok(v) = header::HeaderValue::from_str(&policy) {
        res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    Ok(res)
}

/// `'self'` and the origins a checkout may redirect to: each configured provider's approval pages
/// (PayPal's live and sandbox sites; Mercado Pago's country sites) and its API base (a sandbox or
/// a local fake answers with approval URLs on its own origin).
fn checkout_form_action(p: &crate::payments::PaymentSettings) -> String {
    let mut origins = vec!["'self'".to_string()];
    if let Some(pp) = &p.paypal {
        origins
            .extend(["https://www.paypal.com", "https://www.sandbox.paypal.com"].map(String::from));
        origins.extend(origin(&pp.api_base));
    }
    if let Some(mp) = &p.mercadopago {
        origins.extend(
            [
                "https://*.mercadopago.com",
                "https://*.mercadopago.com.ar",
                "https://*.mercadopago.com.br",
                "https://*.mercadopago.com.mx",
                "https://*.mercadopago.com.co",
                "https://*.mercadopago.com.pe",
                "https://*.mercadopago.com.uy",
                "https://*.mercadopago.cl",
            ]
            .map(String::from),
        );
        origins.extend(origin(&mp.api_base));
    }
    origins.dedup();
    origins.join(" ")
}

#[derive(Deserialize)]
pub struct CheckoutForm {
    csrf_token: String,
    plan: String,
    provider: String,
}

impl CsrfProtected for CheckoutForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// The origin of a URL (`https://host:port`), for the redirect's form-action allowance.
fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    (!host.is_empty() && (scheme == "https" || scheme == "http"))
        .then(|| format!("{scheme}://{host}"))
}

async fn start_checkout(
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<CheckoutForm>,
) -> Result<HttpResponse, AppError> {
    let url = checkout::checkout(
        &state.db,
        &state.settings,
        &user,
        &form.plan,
        &form.provider,
    )
    .await?;
    let mut res = HttpResponse::SeeOther();
    res.insert_header((header::LOCATION, url.as_str()));
    // Browsers apply the page's `form-action` to the redirect that answers a form: allow the
    // provider's approval page for this one response.
    if let Some(o) = origin(&url) {
        res.insert_header((
            header::CONTENT_SECURITY_POLICY,
            format!("default-src 'self'; frame-ancestors 'none'; form-action 'self' {o}"),
        ));
    }
    Ok(res.finish())
}

async fn cancel(
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
    _form: CsrfForm<PlainForm>,
) -> Result<HttpResponse, AppError> {
    checkout::cancel(&state.db, &state.settings, &user).await?;
    Ok(see_other("/billing?cancelled=1"))
}

#[derive(Deserialize)]
struct ReturnQuery {
    #[serde(default)]
    provider: String,
}

async fn came_back(
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
    q: web::Query<ReturnQuery>,
) -> Result<HttpResponse, AppError> {
    if let Some(p) = Provider::parse(&q.provider).filter(|p| state.settings.payments.configured(*p))
    {
        checkout::sync_latest(&state.db, &state.settings, &user, p).await;
    }
    Ok(see_other("/billing?returned=1"))
}
