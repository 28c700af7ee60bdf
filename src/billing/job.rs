//! The `billing` queue's handler: acts on one stored webhook event. PayPal deliveries are verified
//! with PayPal first (only `SUCCESS` counts); then the subscription the event is about is fetched from
//! the provider and its *current* state applied (`plan::apply_state`), so events arriving late, twice
//! or out of order all converge on what the provider says now. Nothing from the event body decides a
//! plan, a user or an amount. Provider or storage trouble retries the job (the event stays
//! `received`); an event that can never apply is marked `ignored` or `rejected` with the reason.

use std::collections::HashMap;
use std::sync::Arc;

use futures_util::future::LocalBoxFuture;
use futures_util::FutureExt;
use serde_json::Value;

use crate::config::Settings;
use crate::db::repo::{self, billing::BillingEvent};
use crate::db::{self, DbError, DbPool};
use crate::payments::mercadopago::MercadoPago;
use crate::payments::paypal::{subscription_of, PayPal};
use crate::payments::{PaymentError, Provider};
use crate::queue::{ClaimedJob, JobHandler, JobOutcome, JobPayload, LeaseHandle};

use super::plan::{apply_state, Applied};
use super::BillingError;

pub struct BillingEventHandler {
    pub settings: Arc<Settings>,
    pub db: DbPool,
}

/// Why an event was not finished: the job is retried and the event stays `received`.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// Reading the event or recording its outcome failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The provider (or its configuration on this node, or storage while acting) failed; the reason.
    #[error("{0}")]
    Retry(String),
}

/// How processing one event ended.
enum Step {
    /// Final: `(status, outcome, our subscription id)`.
    Finish(&'static str, String, Option<String>),
    /// Try again later (the provider or our storage failed).
    Retry(String),
}

fn from_payment(e: PaymentError) -> Step {
    match e {
        PaymentError::NotFound => Step::Finish(
            "ignored",
            "the provider does not know the resource".into(),
            None,
        ),
        // Our credentials or the provider's trouble: the event waits for a retry.
        e => Step::Retry(e.to_string()),
    }
}

impl JobHandler for BillingEventHandler {
    fn run(&self, job: ClaimedJob, _lease: LeaseHandle) -> LocalBoxFuture<'static, JobOutcome> {
        let (settings, pool) = (self.settings.clone(), self.db.clone());
        async move {
            let JobPayload::BillingEvent { event_id } = job.payload else {
                return JobOutcome::Failed {
                    error: "not a billing job".into(),
                };
            };
            match process(&pool, &settings, &event_id).await {
                Ok(()) => JobOutcome::Done,
                Err(error) => JobOutcome::Retry {
                    after: None,
                    error: error.to_string(),
                },
            }
        }
        .boxed_local()
    }
}

/// Processes the stored event `id` once; `Err` asks for a retry.
pub async fn process(pool: &DbPool, settings: &Settings, id: &str) -> Result<(), ProcessError> {
    let eid = id.to_string();
    let event = db::run(pool, move |c| repo::billing::get_event(c, &eid)).await?;
    let Some(event) = event else {
        return Ok(());
    };
    if event.status != "received" {
        return Ok(());
    }
    let (p, e, i) = (
        event.provider.clone(),
        event.event_id.clone(),
        event.id.clone(),
    );
    let seen = db::run(pool, move |c| {
        repo::billing::event_already_processed(c, &p, &e, &i)
    })
    .await?;
    let step = if seen {
        Step::Finish("ignored", "this event was already acted on".into(), None)
    } else {
        match Provider::parse(&event.provider) {
            Some(Provider::PayPal) => paypal(pool, settings, &event).await,
            Some(Provider::MercadoPago) => mercadopago(pool, settings, &event).await,
            None => Step::Finish("ignored", "unknown provider".into(), None),
        }
    };
    match step {
        Step::Retry(why) => {
            log::warn!(target: "buko::billing", event_id = event.event_id.as_str(); "billing event will be retried: {why}");
            Err(ProcessError::Retry(why))
        }
        Step::Finish(status, outcome, sub) => {
            log::info!(target: "buko::billing", event_id = event.event_id.as_str(), status = status, outcome = outcome.as_str(); "billing event processed");
            let id = event.id.clone();
            db::run(pool, move |c| {
                repo::billing::finish_event(c, &id, status, &outcome, sub.as_deref())
            })
            .await?;
            Ok(())
        }
    }
}

async fn act(
    pool: &DbPool,
    state: crate::payments::SubscriptionState,
    event: &BillingEvent,
) -> Step {
    let event_ref = format!("{}:{}", event.provider, event.event_id);
    match db::run(pool, move |c| apply_state(c, &state, Some(&event_ref))).await {
        Ok(Applied::Updated {
            subscription,
            plan_changed,
        }) => Step::Finish(
            "processed",
            if plan_changed {
                "plan changed"
            } else {
                "subscription updated"
            }
            .into(),
            Some(subscription),
        ),
        Ok(Applied::Ignored(why)) => Step::Finish("ignored", why, None),
        Err(e) => Step::Retry(e.to_string()),
    }
}

async fn paypal(pool: &DbPool, settings: &Settings, event: &BillingEvent) -> Step {
    let Some(pp) = &settings.payments.paypal else {
        return Step::Retry("PayPal is not configured on this node".into());
    };
    let client = PayPal { settings: pp };
    let (Ok(body), Ok(headers)) = (
        serde_json::from_str::<Value>(&event.payload),
        serde_json::from_str::<HashMap<String, String>>(&event.headers),
    ) else {
        return Step::Finish("rejected", "unreadable stored event".into(), None);
    };
    match client.verify(&headers, &body).await {
        Ok(true) => {}
        Ok(false) => {
            return Step::Finish(
                "rejected",
                "PayPal did not verify the signature".into(),
                None,
            )
        }
        Err(PaymentError::Rejected { status, .. }) => {
            return Step::Finish(
                "rejected",
                format!("PayPal refused to verify it (HTTP {status})"),
                None,
            )
        }
        Err(e) => return Step::Retry(format!("verifying: {e}")),
    }
    let Some(reference) = subscription_of(&event.event_type, &body) else {
        return Step::Finish("ignored", "the event names no subscription".into(), None);
    };
    match client.get_subscription(&reference).await {
        Ok(state) => act(pool, state, event).await,
        Err(e) => from_payment(e),
    }
}

async fn mercadopago(pool: &DbPool, settings: &Settings, event: &BillingEvent) -> Step {
    let Some(mp) = &settings.payments.mercadopago else {
        return Step::Retry("Mercado Pago is not configured on this node".into());
    };
    let client = MercadoPago { settings: mp };
    let reference = match event.event_type.as_str() {
        "payment" => match client.get_payment(&event.resource_id).await {
            Ok((status, external_ref, preapproval)) => {
                if status != "approved" {
                    return Step::Finish("ignored", format!("payment is {status}"), None);
                }
                match preapproval {
                    Some(p) => p,
                    // The payment names only our user: their newest Mercado Pago subscription.
                    None => match newest_mp_subscription(pool, external_ref).await {
                        Ok(Some(r)) => r,
                        Ok(None) => {
                            return Step::Finish(
                                "ignored",
                                "no subscription for this payment".into(),
                                None,
                            )
                        }
                        Err(e) => return Step::Retry(e.to_string()),
                    },
                }
            }
            Err(e) => return from_payment(e),
        },
        _ => event.resource_id.clone(),
    };
    match client.get_preapproval(&reference).await {
        Ok(state) => act(pool, state, event).await,
        Err(e) => from_payment(e),
    }
}

async fn newest_mp_subscription(
    pool: &DbPool,
    user: Option<String>,
) -> Result<Option<String>, BillingError> {
    let Some(uid) = user else { return Ok(None) };
    let subs = db::run(pool, move |c| repo::billing::of_user(c, &uid)).await?;
    Ok(subs
        .into_iter()
        .find(|s| s.provider == "mercadopago")
        .and_then(|s| s.provider_subscription_id))
}
