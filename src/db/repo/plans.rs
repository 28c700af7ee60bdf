//! Plans as data: their limits, prices per provider and the providers' plan ids. Seeded by the billing
//! migration (`free`, `pro`, `studio`, and the operators' non-public `unlimited`); edited by admins.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::{plans, users};
use crate::db::{now, DbConn, DbError};

/// The plan every user falls back to (no subscription, or one that ended).
pub const FREE: &str = "free";

#[derive(Clone, Debug, PartialEq, Queryable, Selectable, Serialize)]
#[diesel(table_name = plans)]
pub struct Plan {
    pub id: String,
    pub name: String,
    pub position: i32,
    /// Listed on `/billing` (operators' plans such as `unlimited` are not).
    pub public: bool,
    pub architectures_per_hour: i32,
    pub books_per_hour: i32,
    pub books_per_month: i32,
    pub max_pages: i32,
    pub cover_candidates: i32,
    pub paypal_price_cents: i64,
    pub paypal_currency: String,
    pub paypal_plan_id: Option<String>,
    pub mercadopago_price_cents: i64,
    pub mercadopago_currency: String,
    pub mercadopago_plan_id: Option<String>,
    pub updated_at: NaiveDateTime,
    /// The cost limit offered for a new book (USD), editable by the author before approving.
    pub book_budget_usd: f64,
}

impl Plan {
    /// Costs money (at least one provider has a price).
    pub fn is_paid(&self) -> bool {
        self.paypal_price_cents > 0 || self.mercadopago_price_cents > 0
    }

    /// "12.00 USD".
    pub fn price_text(cents: i64, currency: &str) -> String {
        format!("{}.{:02} {currency}", cents / 100, cents % 100)
    }
}

/// Every plan, in display order (`public_only` for the billing page).
pub fn list(conn: &mut DbConn, public_only: bool) -> Result<Vec<Plan>, DbError> {
    let mut q = plans::table.select(Plan::as_select()).into_boxed();
    if public_only {
        q = q.filter(plans::public.eq(true));
    }
    Ok(q.order(plans::position.asc()).load(conn)?)
}

pub fn get(conn: &mut DbConn, id: &str) -> Result<Option<Plan>, DbError> {
    Ok(plans::table
        .find(id)
        .select(Plan::as_select())
        .first(conn)
        .optional()?)
}

/// The plan with this provider plan id (what a verified provider resource says it is on).
pub fn by_provider_plan_id(
    conn: &mut DbConn,
    provider: &str,
    provider_plan_id: &str,
) -> Result<Option<Plan>, DbError> {
    let q = plans::table.select(Plan::as_select()).into_boxed();
    let q = match provider {
        "paypal" => q.filter(plans::paypal_plan_id.eq(provider_plan_id)),
        _ => q.filter(plans::mercadopago_plan_id.eq(provider_plan_id)),
    };
    Ok(q.first(conn).optional()?)
}

/// The user's current plan (the free plan when the user's plan row is missing).
pub fn of_user(conn: &mut DbConn, user_id: &str) -> Result<Plan, DbError> {
    // One statement for the user's plan row (read for every quota figure).
    let found = plans::table
        .inner_join(users::table.on(users::plan.eq(plans::id)))
        .filter(users::id.eq(user_id))
        .select(Plan::as_select())
        .first(conn)
        .optional()?;
    if let Some(p) = found {
        return Ok(p);
    }
    get(conn, FREE)?.ok_or(DbError::Query(diesel::result::Error::NotFound))
}

/// What an admin may edit on a plan.
#[derive(Clone, Debug, AsChangeset)]
#[diesel(table_name = plans)]
pub struct PlanEdit {
    pub name: String,
    pub public: bool,
    pub architectures_per_hour: i32,
    pub books_per_hour: i32,
    pub books_per_month: i32,
    pub max_pages: i32,
    pub cover_candidates: i32,
    /// `None` keeps the current default cost limit.
    pub book_budget_usd: Option<f64>,
    pub paypal_price_cents: i64,
    pub paypal_currency: String,
    pub paypal_plan_id: Option<String>,
    pub mercadopago_price_cents: i64,
    pub mercadopago_currency: String,
    pub mercadopago_plan_id: Option<String>,
}

pub fn update(conn: &mut DbConn, id: &str, edit: &PlanEdit) -> Result<bool, DbError> {
    let n = diesel::update(plans::table.find(id))
        .set((edit, plans::updated_at.eq(now())))
        .execute(conn)?;
    Ok(n > 0)
}

/// Fills a provider plan id only where none is set yet, so an admin's later edit is never overwritten
/// by the environment on the next start. Returns whether a row changed.
pub fn seed_provider_plan_id(
    conn: &mut DbConn,
    plan_id: &str,
    provider: &str,
    value: &str,
) -> Result<bool, DbError> {
    let target = plans::table.find(plan_id);
    let n = match provider {
        "paypal" => diesel::update(target.filter(plans::paypal_plan_id.is_null()))
            .set(plans::paypal_plan_id.eq(value))
            .execute(conn)?,
        _ => diesel::update(target.filter(plans::mercadopago_plan_id.is_null()))
            .set(plans::mercadopago_plan_id.eq(value))
            .execute(conn)?,
    };
    Ok(n > 0)
}
