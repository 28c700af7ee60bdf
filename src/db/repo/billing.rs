//! Subscriptions at the payment providers, the webhook events received for them (stored once per
//! delivery before anything acts on them), and the plan switch of a user (compare-and-set, so
//! concurrent workers change a plan at most once).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::{billing_events, subscriptions, users};
use crate::db::{new_id, now, DbConn, DbError};

#[derive(Clone, Debug, PartialEq, Queryable, Selectable, Serialize)]
#[diesel(table_name = subscriptions)]
pub struct Subscription {
    pub id: String,
    pub user_id: String,
    pub plan_id: String,
    pub provider: String,
    pub provider_subscription_id: Option<String>,
    /// `pending` (created, not approved), `active`, `suspended`, `cancelled` (paid until
    /// `current_period_end`), `expired` (over).
    pub status: String,
    pub current_period_end: Option<NaiveDateTime>,
    pub last_event_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn create_pending(
    conn: &mut DbConn,
    user_id: &str,
    plan_id: &str,
    provider: &str,
) -> Result<Subscription, DbError> {
    let t = now();
    let id = new_id();
    diesel::insert_into(subscriptions::table)
        .values((
            subscriptions::id.eq(&id),
            subscriptions::user_id.eq(user_id),
            subscriptions::plan_id.eq(plan_id),
            subscriptions::provider.eq(provider),
            subscriptions::status.eq("pending"),
            subscriptions::created_at.eq(t),
            subscriptions::updated_at.eq(t),
        ))
        .execute(conn)?;
    get(conn, &id)?.ok_or(DbError::Query(diesel::result::Error::NotFound))
}

pub fn set_provider_ref(conn: &mut DbConn, id: &str, reference: &str) -> Result<(), DbError> {
    diesel::update(subscriptions::table.find(id))
        .set((
            subscriptions::provider_subscription_id.eq(reference),
            subscriptions::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// A pending subscription the provider never created (its call failed) is removed again.
pub fn delete_pending(conn: &mut DbConn, id: &str) -> Result<(), DbError> {
    diesel::delete(
        subscriptions::table
            .find(id)
            .filter(subscriptions::status.eq("pending")),
    )
    .execute(conn)?;
    Ok(())
}

pub fn get(conn: &mut DbConn, id: &str) -> Result<Option<Subscription>, DbError> {
    Ok(subscriptions::table
        .find(id)
        .select(Subscription::as_select())
        .first(conn)
        .optional()?)
}

pub fn by_provider_ref(
    conn: &mut DbConn,
    provider: &str,
    reference: &str,
) -> Result<Option<Subscription>, DbError> {
    Ok(subscriptions::table
        .filter(subscriptions::provider.eq(provider))
        .filter(subscriptions::provider_subscription_id.eq(reference))
        .select(Subscription::as_select())
        .first(conn)
        .optional()?)
}

/// The user's subscriptions, newest first.
pub fn of_user(conn: &mut DbConn, user_id: &str) -> Result<Vec<Subscription>, DbError> {
    Ok(subscriptions::table
        .filter(subscriptions::user_id.eq(user_id))
        .order(subscriptions::created_at.desc())
        .select(Subscription::as_select())
        .load(conn)?)
}

/// Records what the provider's resource says now.
pub fn set_state(
    conn: &mut DbConn,
    id: &str,
    status: &str,
    plan_id: &str,
    period_end: Option<NaiveDateTime>,
) -> Result<(), DbError> {
    let t = now();
    diesel::update(subscriptions::table.find(id))
        .set((
            subscriptions::status.eq(status),
            subscriptions::plan_id.eq(plan_id),
            subscriptions::current_period_end.eq(period_end),
            subscriptions::last_event_at.eq(Some(t)),
            subscriptions::updated_at.eq(t),
        ))
        .execute(conn)?;
    Ok(())
}

/// Cancelled subscriptions whose paid period is over (the sweeper ends them).
pub fn ended_by(
    conn: &mut DbConn,
    at: NaiveDateTime,
    user_id: Option<&str>,
) -> Result<Vec<Subscription>, DbError> {
    let mut q = subscriptions::table.into_boxed();
    if let Some(u) = user_id {
        q = q.filter(subscriptions::user_id.eq(u));
    }
    Ok(q.filter(subscriptions::status.eq("cancelled"))
        .filter(subscriptions::current_period_end.le(at))
        .select(Subscription::as_select())
        .load(conn)?)
}

/// Marks a cancelled subscription expired; false when another worker did it first.
pub fn expire(conn: &mut DbConn, id: &str) -> Result<bool, DbError> {
    let n = diesel::update(
        subscriptions::table
            .find(id)
            .filter(subscriptions::status.eq("cancelled")),
    )
    .set((
        subscriptions::status.eq("expired"),
        subscriptions::updated_at.eq(now()),
    ))
    .execute(conn)?;
    Ok(n > 0)
}

/// One row of the admin's subscriptions list.
#[derive(Clone, Debug, Serialize)]
pub struct SubscriptionRow {
    pub sub: Subscription,
    pub email: String,
}

pub fn list(conn: &mut DbConn, limit: i64) -> Result<Vec<SubscriptionRow>, DbError> {
    let rows: Vec<(Subscription, String)> = subscriptions::table
        .inner_join(users::table)
        .order(subscriptions::updated_at.desc())
        .limit(limit)
        .select((Subscription::as_select(), users::email))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(sub, email)| SubscriptionRow { sub, email })
        .collect())
}

/// Switches the user's plan from what it is now to `to`; `Some(from)` when it changed, `None` when
/// it already was `to` or another transaction changed it first (compare-and-set on the old value).
pub fn switch_plan(conn: &mut DbConn, user_id: &str, to: &str) -> Result<Option<String>, DbError> {
    let Some(from) = users::table
        .find(user_id)
        .select(users::plan)
        .first::<String>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    if from == to {
        return Ok(None);
    }
    let n = diesel::update(users::table.find(user_id).filter(users::plan.eq(&from)))
        .set((users::plan.eq(to), users::updated_at.eq(now())))
        .execute(conn)?;
    Ok((n > 0).then_some(from))
}

#[derive(Clone, Debug, PartialEq, Queryable, Selectable, Serialize)]
#[diesel(table_name = billing_events)]
pub struct BillingEvent {
    pub id: String,
    pub provider: String,
    pub event_id: String,
    pub body_sha256: String,
    pub event_type: String,
    pub resource_id: String,
    pub subscription_id: Option<String>,
    /// The headers the verification needs (PayPal's transmission headers), as JSON.
    pub headers: String,
    pub payload: String,
    /// `received` (waiting for the worker), `processed`, `ignored`, `rejected` (failed verification).
    pub status: String,
    pub outcome: String,
    pub received_at: NaiveDateTime,
    pub processed_at: Option<NaiveDateTime>,
}

pub struct NewEvent<'a> {
    pub provider: &'a str,
    pub event_id: &'a str,
    pub body_sha256: &'a str,
    pub event_type: &'a str,
    pub resource_id: &'a str,
    pub headers: &'a str,
    pub payload: &'a str,
}

/// Stores a delivery; `None` when the same delivery (provider, event id, body) is already stored.
/// In a savepoint of its own: on PostgreSQL a unique violation would abort the caller's transaction.
pub fn insert_event(conn: &mut DbConn, e: NewEvent<'_>) -> Result<Option<String>, DbError> {
    let id = new_id();
    let r = conn.transaction(|conn| {
        diesel::insert_into(billing_events::table)
            .values((
                billing_events::id.eq(&id),
                billing_events::provider.eq(e.provider),
                billing_events::event_id.eq(e.event_id),
                billing_events::body_sha256.eq(e.body_sha256),
                billing_events::event_type.eq(e.event_type),
                billing_events::resource_id.eq(e.resource_id),
                billing_events::headers.eq(e.headers),
                billing_events::payload.eq(e.payload),
                billing_events::status.eq("received"),
                billing_events::received_at.eq(now()),
            ))
            .execute(conn)
    });
    match r {
        Ok(_) => Ok(Some(id)),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

pub fn get_event(conn: &mut DbConn, id: &str) -> Result<Option<BillingEvent>, DbError> {
    Ok(billing_events::table
        .find(id)
        .select(BillingEvent::as_select())
        .first(conn)
        .optional()?)
}

/// Another delivery of the same provider event was already acted on.
pub fn event_already_processed(
    conn: &mut DbConn,
    provider: &str,
    event_id: &str,
    except: &str,
) -> Result<bool, DbError> {
    let n: i64 = billing_events::table
        .filter(billing_events::provider.eq(provider))
        .filter(billing_events::event_id.eq(event_id))
        .filter(billing_events::id.ne(except))
        .filter(billing_events::status.eq("processed"))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

pub fn finish_event(
    conn: &mut DbConn,
    id: &str,
    status: &str,
    outcome: &str,
    subscription_id: Option<&str>,
) -> Result<(), DbError> {
    diesel::update(billing_events::table.find(id))
        .set((
            billing_events::status.eq(status),
            billing_events::outcome.eq(outcome),
            billing_events::subscription_id.eq(subscription_id),
            billing_events::processed_at.eq(Some(now())),
        ))
        .execute(conn)?;
    Ok(())
}

/// The events of a subscription, newest first.
pub fn events_of(conn: &mut DbConn, subscription_id: &str) -> Result<Vec<BillingEvent>, DbError> {
    Ok(billing_events::table
        .filter(billing_events::subscription_id.eq(subscription_id))
        .order(billing_events::received_at.desc())
        .select(BillingEvent::as_select())
        .load(conn)?)
}

/// The newest event type per subscription (for the admin list).
pub fn last_event_type(
    conn: &mut DbConn,
    subscription_id: &str,
) -> Result<Option<String>, DbError> {
    Ok(billing_events::table
        .filter(billing_events::subscription_id.eq(subscription_id))
        .order(billing_events::received_at.desc())
        .select(billing_events::event_type)
        .first(conn)
        .optional()?)
}

/// The plan changes of a user (audit rows `user.plan`), newest first.
pub fn plan_changes_of(
    conn: &mut DbConn,
    user_id: &str,
    limit: i64,
) -> Result<Vec<crate::db::models::AuditEntry>, DbError> {
    use crate::db::schema::audit_log;
    Ok(audit_log::table
        .filter(audit_log::action.eq("user.plan"))
        .filter(audit_log::target_type.eq("user"))
        .filter(audit_log::target_id.eq(user_id))
        .order(audit_log::created_at.desc())
        .limit(limit)
        .select(crate::db::models::AuditEntry::as_select())
        .load(conn)?)
}
