//! Bulk set-up for the load tool (`buko-load`): books inserted as they would stand after drafting, and
//! a plan for a batch of accounts. Not used by the product itself.

use diesel::prelude::*;

use crate::db::schema::{books, users};
use crate::db::{new_id, now, DbConn, DbError};

/// A book owned by `user_id`: a `draft` without an architecture, or `architecture_ready` with one
/// (valid JSON of `buko_actors::Architecture`). Returns its id.
pub fn insert_book(
    c: &mut DbConn,
    user_id: &str,
    title: &str,
    idea: &str,
    target_pages: i32,
    architecture: Option<String>,
) -> Result<String, DbError> {
    let (id, t) = (new_id(), now());
    let status = if architecture.is_some() {
        buko_actors::BookStatus::ArchitectureReady
    } else {
        buko_actors::BookStatus::Draft
    };
    diesel::insert_into(books::table)
        .values((
            books::id.eq(&id),
            books::user_id.eq(user_id),
            books::title.eq(title),
            books::idea.eq(idea),
            books::genre.eq("literary fiction"),
            books::language.eq("en"),
            books::target_pages.eq(target_pages),
            books::status.eq(status.as_str()),
            books::architecture.eq(architecture),
            books::created_at.eq(t),
            books::updated_at.eq(t),
        ))
        .execute(c)?;
    Ok(id)
}

/// Puts every account whose e-mail matches the SQL `LIKE` pattern on `plan`.
pub fn set_plan_where_email_like(c: &mut DbConn, pattern: &str, plan: &str) -> Result<(), DbError> {
    diesel::update(users::table.filter(users::email.like(pattern)))
        .set(users::plan.eq(plan))
        .execute(c)?;
    Ok(())
}
