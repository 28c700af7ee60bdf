//! The plan a user is entitled to and every change of it. A user's plan follows their subscriptions:
//! the best plan among those active or cancelled but still paid (`current_period_end` ahead), else
//! `free`. Each change is a compare-and-set on `users.plan` plus one `user.plan` audit row in the same
//! transaction, so redeliveries and concurrent workers change a plan at most once. Operators' plans
//! that are not sold (e.g. `unlimited`) are left alone by subscriptions.

use serde_json::json;

use crate::db::repo::{self, billing::Subscription, plans::Plan};
use crate::db::{self, write_tx, DbConn, DbError};
use crate::payments::SubscriptionState;

use super::status::SubscriptionStatus;

/// Why a plan changes, for the audit row.
#[derive(Clone, Copy, Debug, Default)]
pub struct Change<'a> {
    /// `subscription`, `period_end`, `admin`.
    pub reason: &'a str,
    pub actor: Option<&'a str>,
    pub subscription: Option<&'a str>,
    pub event: Option<&'a str>,
    pub ip: &'a str,
}

/// Sets the user's plan to `to` and audits it; false when it already was `to`.
pub fn change_plan(
    conn: &mut DbConn,
    user_id: &str,
    to: &str,
    why: Change<'_>,
) -> Result<bool, DbError> {
    let Some(from) = repo::billing::switch_plan(conn, user_id, to)? else {
        return Ok(false);
    };
    repo::audit::record(
        conn,
        why.actor,
        "user.plan",
        ("user", user_id),
        json!({"from": from, "to": to, "reason": why.reason,
               "subscription": why.subscription, "event": why.event}),
        why.ip,
    )?;
    log::info!(target: "buko::billing", user_id = user_id, from = from.as_str(), to = to, reason = why.reason; "plan changed");
    Ok(true)
}

/// The plan the user's subscriptions entitle them to now (`None`: none does).
pub fn entitled_plan(conn: &mut DbConn, user_id: &str) -> Result<Option<Plan>, DbError> {
    let now = db::now();
    let mut best: Option<Plan> = None;
    for s in repo::billing::of_user(conn, user_id)? {
        let paid = match s.status() {
            SubscriptionStatus::Active => true,
            SubscriptionStatus::Cancelled => s.current_period_end.is_some_and(|t| t > now),
            _ => false,
        };
        if !paid {
            continue;
        }
        if let Some(p) = repo::plans::get(conn, &s.plan_id)? {
            if best.as_ref().is_none_or(|b| p.position > b.position) {
                best = Some(p);
            }
        }
    }
    Ok(best)
}

/// Brings the user's plan in line with their subscriptions; true when it changed.
pub fn settle(conn: &mut DbConn, user_id: &str, why: Change<'_>) -> Result<bool, DbError> {
    let current = repo::plans::of_user(conn, user_id)?;
    if !current.public {
        return Ok(false);
    }
    let target = entitled_plan(conn, user_id)?
        .map(|p| p.id)
        .unwrap_or_else(|| repo::plans::FREE.to_string());
    change_plan(conn, user_id, &target, why)
}

/// Ends the user's (or everyone's) cancelled subscriptions whose paid period is over, settling the
/// plans they paid for. Returns how many ended.
pub fn end_due(conn: &mut DbConn, user_id: Option<&str>) -> Result<usize, DbError> {
    let mut ended = 0;
    for s in repo::billing::ended_by(conn, db::now(), user_id)? {
        write_tx(conn, |c| {
            if repo::billing::expire(c, &s.id)? {
                ended += 1;
                settle(
                    c,
                    &s.user_id,
                    Change {
                        reason: "period_end",
                        subscription: Some(&s.id),
                        ..Default::default()
                    },
                )?;
            }
            Ok::<_, DbError>(())
        })?;
    }
    Ok(ended)
}

/// The user's plan now, after ending what is due.
pub fn effective_plan(conn: &mut DbConn, user_id: &str) -> Result<Plan, DbError> {
    end_due(conn, Some(user_id))?;
    repo::plans::of_user(conn, user_id)
}

/// What acting on a provider's resource did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    /// The subscription was updated (and the plan changed when `true`).
    Updated {
        subscription: String,
        plan_changed: bool,
    },
    /// Nothing to do with it (unknown subscription, another user's, …); the reason is kept.
    Ignored(String),
}

/// Records the resource's current state on our subscription and settles the user's plan, in one
/// transaction holding the user's row lock. Out-of-order events are harmless: the state acted on is
/// the resource's, fetched now, not the event's.
pub fn apply_state(
    conn: &mut DbConn,
    state: &SubscriptionState,
    event: Option<&str>,
) -> Result<Applied, DbError> {
    let Some(sub) = repo::billing::by_provider_ref(conn, state.provider.as_str(), &state.id)?
    else {
        return Ok(Applied::Ignored("unknown subscription".into()));
    };
    if state.user_ref.as_deref().is_some_and(|u| u != sub.user_id) {
        return Ok(Applied::Ignored(
            "the provider's subscription names another user".into(),
        ));
    }
    write_tx(conn, |c| {
        repo::quota::lock_user(c, &sub.user_id)?;
        let plan = match &state.provider_plan_id {
            Some(pid) => repo::plans::by_provider_plan_id(c, state.provider.as_str(), pid)?
                .map(|p| p.id)
                .unwrap_or_else(|| sub.plan_id.clone()),
            None => sub.plan_id.clone(),
        };
        let period_end = state.period_end.or(sub.current_period_end);
        let status = match state.status {
            SubscriptionStatus::Cancelled if period_end.is_none_or(|t| t <= db::now()) => {
                SubscriptionStatus::Expired
            }
            s => s,
        };
        repo::billing::set_state(c, &sub.id, status.as_str(), &plan, period_end)?;
        let changed = settle(
            c,
            &sub.user_id,
            Change {
                reason: "subscription",
                subscription: Some(&sub.id),
                event,
                ..Default::default()
            },
        )?;
        Ok(Applied::Updated {
            subscription: sub.id.clone(),
            plan_changed: changed,
        })
    })
}

/// The subscription shown to the user: the newest that is not an abandoned checkout.
pub fn current_subscription(subs: &[Subscription]) -> Option<&Subscription> {
    subs.iter()
        .find(|s| s.status().is_running() || s.status() == SubscriptionStatus::Cancelled)
}

/// An admin sets a user's plan by hand (any plan, sold or not); audited with the admin and address.
pub async fn admin_set_plan(
    db_pool: &db::DbPool,
    admin: &crate::db::models::User,
    user_id: &str,
    plan_id: &str,
    ip: &str,
) -> Result<bool, super::BillingError> {
    let (aid, uid, pid, ip) = (
        admin.id.clone(),
        user_id.to_string(),
        plan_id.to_string(),
        ip.to_string(),
    );
    let changed = db::run(db_pool, move |c| {
        if repo::plans::get(c, &pid)?.is_none() {
            return Ok(None);
        }
        write_tx(c, |c| {
            change_plan(
                c,
                &uid,
                &pid,
                Change {
                    reason: "admin",
                    actor: Some(&aid),
                    ip: &ip,
                    ..Default::default()
                },
            )
        })
        .map(Some)
    })
    .await?;
    changed.ok_or_else(|| super::BillingError::UnknownPlan(plan_id.chars().take(40).collect()))
}
