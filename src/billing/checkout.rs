//! Checkout, cancel and the billing overview — the same functions behind `/billing` and
//! `/api/v1/billing`. Checkout creates a pending subscription row, then the subscription at the
//! provider (our user id travels as `custom_id` / `external_reference`), and returns the provider's
//! approval URL; the plan changes only when the provider confirms (webhook or the return page's sync).

use crate::config::Settings;
use crate::db::models::{AuditEntry, User};
use crate::db::repo::{self, billing::Subscription, plans::Plan};
use crate::db::{self, DbPool};
use crate::limits::quota::{self, Usage};
use crate::payments::mercadopago::{MercadoPago, Recurrence};
use crate::payments::paypal::PayPal;
use crate::payments::{PaymentError, Provider, SubscriptionState};

use super::plan::{apply_state, current_subscription, Applied};
use super::status::SubscriptionStatus;
use super::BillingError;

/// Everything the billing page and `GET /api/v1/billing` show.
pub struct Overview {
    pub plan: Plan,
    /// Plans on sale, in order.
    pub plans: Vec<Plan>,
    pub subscription: Option<Subscription>,
    pub usage: Usage,
    /// Plan changes of this user (newest first).
    pub history: Vec<AuditEntry>,
    /// Providers configured on this server.
    pub providers: Vec<Provider>,
}

pub async fn overview(
    db_pool: &DbPool,
    settings: &Settings,
    user: &User,
) -> Result<Overview, BillingError> {
    let uid = user.id.clone();
    let (usage, plans, subs, history) = db::run(db_pool, move |c| {
        let usage = quota::usage_of(c, &uid)?;
        Ok((
            usage,
            repo::plans::list(c, true)?,
            repo::billing::of_user(c, &uid)?,
            repo::billing::plan_changes_of(c, &uid, 20)?,
        ))
    })
    .await?;
    Ok(Overview {
        plan: usage.plan.clone(),
        plans,
        subscription: current_subscription(&subs).cloned(),
        usage,
        history,
        providers: Provider::ALL
            .into_iter()
            .filter(|p| settings.payments.configured(*p))
            .collect(),
    })
}

/// Starts a subscription to `plan_id` at `provider`; returns where to send the payer.
pub async fn checkout(
    db_pool: &DbPool,
    settings: &Settings,
    user: &User,
    plan_id: &str,
    provider: &str,
) -> Result<String, BillingError> {
    let provider = Provider::parse(provider)
        .ok_or_else(|| BillingError::UnknownProvider(provider.chars().take(40).collect()))?;
    let pid = plan_id.to_string();
    let plan = db::run(db_pool, move |c| repo::plans::get(c, &pid))
        .await?
        .ok_or_else(|| BillingError::UnknownPlan(plan_id.chars().take(40).collect()))?;
    if !plan.public || !plan.is_paid() {
        return Err(BillingError::NotForSale(plan.id));
    }
    let uid = user.id.clone();
    let subs = db::run(db_pool, move |c| repo::billing::of_user(c, &uid)).await?;
    if subs.iter().any(|s| s.status().is_running()) {
        return Err(BillingError::AlreadySubscribed);
    }
    let base = settings.mail.public_url.trim_end_matches('/');
    let return_url = format!("{base}/billing/return?provider={}", provider.as_str());
    let cancel_url = format!("{base}/billing");
    let not_offered = || BillingError::NotOffered(plan.name.clone(), provider.label());
    // Check what the provider needs before writing anything.
    let recurrence = match provider {
        Provider::PayPal => {
            settings
                .payments
                .paypal
                .as_ref()
                .ok_or(BillingError::NotConfigured("PayPal"))?;
            plan.paypal_plan_id.as_deref().ok_or_else(not_offered)?;
            None
        }
        Provider::MercadoPago => {
            settings
                .payments
                .mercadopago
                .as_ref()
                .ok_or(BillingError::NotConfigured("Mercado Pago"))?;
            Some(match &plan.mercadopago_plan_id {
                Some(id) => Recurrence::Plan(id),
                None if plan.mercadopago_price_cents > 0 => Recurrence::Monthly {
                    amount_cents: plan.mercadopago_price_cents,
                    currency: &plan.mercadopago_currency,
                },
                None => return Err(not_offered()),
            })
        }
    };
    let (uid, pid) = (user.id.clone(), plan.id.clone());
    let pending = db::run(db_pool, move |c| {
        repo::billing::create_pending(c, &uid, &pid, provider.as_str())
    })
    .await?;
    let created = match (provider, recurrence) {
        (Provider::PayPal, _) => {
            let (Some(pp), Some(ppid)) = (&settings.payments.paypal, &plan.paypal_plan_id) else {
                return Err(BillingError::NotConfigured("PayPal"));
            };
            PayPal { settings: pp }
                .create_subscription(ppid, &user.id, &return_url, &cancel_url)
                .await
        }
        (Provider::MercadoPago, Some(rec)) => {
            let Some(mp) = &settings.payments.mercadopago else {
                return Err(BillingError::NotConfigured("Mercado Pago"));
            };
            MercadoPago { settings: mp }
                .create_preapproval(
                    rec,
                    &format!("Buko {}", plan.name),
                    &user.email,
                    &user.id,
                    &return_url,
                )
                .await
        }
        (Provider::MercadoPago, None) => Err(PaymentError::Invalid("no recurrence".into())),
    };
    let sub_id = pending.id.clone();
    match created {
        Ok(c) => {
            let reference = c.id.clone();
            db::run(db_pool, move |conn| {
                repo::billing::set_provider_ref(conn, &sub_id, &reference)
            })
            .await?;
            log::info!(target: "buko::billing", user_id = user.id.as_str(), provider = provider.as_str(), plan = plan.id.as_str(); "checkout started");
            Ok(c.approval_url)
        }
        Err(e) => {
            log::warn!(target: "buko::billing", provider = provider.as_str(); "checkout failed: {e}");
            db::run(db_pool, move |c| repo::billing::delete_pending(c, &sub_id)).await?;
            Err(e.into())
        }
    }
}

/// Reads a subscription at its provider.
pub async fn fetch_state(
    settings: &Settings,
    provider: Provider,
    reference: &str,
) -> Result<SubscriptionState, BillingError> {
    match provider {
        Provider::PayPal => {
            let pp = settings
                .payments
                .paypal
                .as_ref()
                .ok_or(BillingError::NotConfigured("PayPal"))?;
            Ok(PayPal { settings: pp }.get_subscription(reference).await?)
        }
        Provider::MercadoPago => {
            let mp = settings
                .payments
                .mercadopago
                .as_ref()
                .ok_or(BillingError::NotConfigured("Mercado Pago"))?;
            Ok(MercadoPago { settings: mp }
                .get_preapproval(reference)
                .await?)
        }
    }
}

/// Cancels the user's subscription at the provider; the plan stays until the paid period ends.
pub async fn cancel(
    db_pool: &DbPool,
    settings: &Settings,
    user: &User,
) -> Result<(), BillingError> {
    let uid = user.id.clone();
    let subs = db::run(db_pool, move |c| repo::billing::of_user(c, &uid)).await?;
    let sub = subs
        .into_iter()
        .find(|s| s.status().is_running())
        .ok_or(BillingError::NoSubscription)?;
    let provider = Provider::parse(&sub.provider).ok_or(BillingError::NoSubscription)?;
    let reference = sub
        .provider_subscription_id
        .clone()
        .ok_or(BillingError::NoSubscription)?;
    match provider {
        Provider::PayPal => {
            let pp = settings
                .payments
                .paypal
                .as_ref()
                .ok_or(BillingError::NotConfigured("PayPal"))?;
            PayPal { settings: pp }.cancel(&reference).await?
        }
        Provider::MercadoPago => {
            let mp = settings
                .payments
                .mercadopago
                .as_ref()
                .ok_or(BillingError::NotConfigured("Mercado Pago"))?;
            MercadoPago { settings: mp }.cancel(&reference).await?
        }
    }
    log::info!(target: "buko::billing", user_id = user.id.as_str(), provider = provider.as_str(); "subscription cancelled");
    // Record the new state now; the webhook that follows finds nothing left to do.
    sync(db_pool, settings, provider, &reference)
        .await
        .map(|_| ())
}

/// Fetches a subscription's current state and acts on it (the return page; after a cancel).
pub async fn sync(
    db_pool: &DbPool,
    settings: &Settings,
    provider: Provider,
    reference: &str,
) -> Result<Applied, BillingError> {
    let state = fetch_state(settings, provider, reference).await?;
    Ok(db::run(db_pool, move |c| apply_state(c, &state, None)).await?)
}

/// After the payer comes back from the provider: sync their newest subscription at it (best effort;
/// the webhook does the same when it arrives).
pub async fn sync_latest(db_pool: &DbPool, settings: &Settings, user: &User, provider: Provider) {
    let uid = user.id.clone();
    let Ok(subs) = db::run(db_pool, move |c| repo::billing::of_user(c, &uid)).await else {
        return;
    };
    let newest = subs
        .into_iter()
        .find(|s| s.provider == provider.as_str() && s.provider_subscription_id.is_some());
    if let Some(reference) = newest.and_then(|s| s.provider_subscription_id) {
        if let Err(e) = sync(db_pool, settings, provider, &reference).await {
            log::warn!(target: "buko::billing", provider = provider.as_str(); "sync after return failed: {e}");
        }
    }
}

impl Overview {
    /// `free`, `active`, `suspended`, `cancelled` (paid until `ends_at`) or `operator` (a plan that is
    /// not sold, set by an admin).
    pub fn status(&self) -> &'static str {
        if !self.plan.public {
            return "operator";
        }
        match self.subscription.as_ref().map(Subscription::status) {
            Some(
                s @ (SubscriptionStatus::Active
                | SubscriptionStatus::Suspended
                | SubscriptionStatus::Cancelled),
            ) => s.as_str(),
            _ => "free",
        }
    }

    /// The next renewal of an active subscription.
    pub fn renews_at(&self) -> Option<chrono::NaiveDateTime> {
        self.subscription
            .as_ref()
            .filter(|s| s.status() == SubscriptionStatus::Active)
            .and_then(|s| s.current_period_end)
    }

    /// When a cancelled subscription's paid period ends (the plan falls back to free then).
    pub fn ends_at(&self) -> Option<chrono::NaiveDateTime> {
        self.subscription
            .as_ref()
            .filter(|s| s.status() == SubscriptionStatus::Cancelled)
            .and_then(|s| s.current_period_end)
    }

    /// The subscription can be cancelled now.
    pub fn can_cancel(&self) -> bool {
        self.subscription
            .as_ref()
            .is_some_and(|s| self.plan.public && s.status().is_running())
    }
}
