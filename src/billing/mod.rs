//! Billing use cases (plans and subscriptions), called by every door — pages, API v1, webhooks, the
//! admin panel and the job queue — so each rule lives once: checkout and cancel at the provider
//! (`checkout`), the plan a user is entitled to and every plan change with its audit row (`plan`),
//! webhook deliveries verified and stored before anything acts on them (`webhook`), and the queue's
//! handler that acts on the provider resource's current state (`job`). SQL stays in `db::repo`;
//! provider HTTP in `payments`.

pub mod checkout;
pub mod job;
pub mod plan;
pub mod status;
pub mod webhook;

pub use status::SubscriptionStatus;

use crate::db::DbError;
use crate::error::AppError;
use crate::payments::PaymentError;

#[derive(Debug, thiserror::Error)]
pub enum BillingError {
    #[error("unknown plan {0:?}")]
    UnknownPlan(String),
    #[error("unknown payment provider {0:?}; use paypal or mercadopago")]
    UnknownProvider(String),
    #[error("the plan {0:?} is not sold; choose a paid plan")]
    NotForSale(String),
    #[error("{0} is not configured on this server")]
    NotConfigured(&'static str),
    #[error("the plan {0} is not offered through {1} yet")]
    NotOffered(String, &'static str),
    #[error("you already have an active subscription; cancel it before choosing another plan")]
    AlreadySubscribed,
    #[error("you have no active subscription")]
    NoSubscription,
    #[error(transparent)]
    Provider(#[from] PaymentError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<BillingError> for AppError {
    fn from(e: BillingError) -> AppError {
        match e {
            BillingError::UnknownPlan(_)
            | BillingError::UnknownProvider(_)
            | BillingError::NotForSale(_) => AppError::Validation(e.to_string()),
            BillingError::NotConfigured(_)
            | BillingError::NotOffered(..)
            | BillingError::AlreadySubscribed
            | BillingError::NoSubscription => AppError::Conflict(e.to_string()),
            BillingError::Provider(p) => AppError::Unavailable(p.to_string()),
            BillingError::Db(d) => d.into(),
        }
    }
}

/// At start: fill the paid plans' provider plan ids from the environment where none is set yet, and
/// run the sweeper that ends cancelled subscriptions at the end of their paid period (every node runs
/// it; ending one is a conditional update, so two nodes never end it twice).
pub async fn start(
    db_pool: &crate::db::DbPool,
    settings: &crate::config::Settings,
) -> anyhow::Result<()> {
    let ids = settings.payments.plan_ids.clone();
    crate::db::run(db_pool, move |c| {
        for (plan, provider, id) in &ids {
            if crate::db::repo::plans::seed_provider_plan_id(c, plan, provider, id)? {
                log::info!(target: "buko::billing", plan = plan.as_str(), provider = provider.as_str(); "provider plan id set from the environment");
            }
        }
        Ok(())
    })
    .await?;
    let pool = db_pool.clone();
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            match crate::db::run(&pool, |c| plan::end_due(c, None)).await {
                Ok(0) => {}
                Ok(n) => {
                    log::info!(target: "buko::billing", ended = n; "subscriptions ended at period end")
                }
                Err(e) => log::warn!(target: "buko::billing", "subscription sweeper: {e}"),
            }
        }
    });
    Ok(())
}
