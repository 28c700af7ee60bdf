//! A book's cost limit: the default its author's plan offers, and the author's changes to it.

use diesel::prelude::*;

use crate::db::repo::plans;
use crate::db::schema::books;
use crate::db::{now, DbConn, DbError};

/// The limit offered for a new book of this user (their plan's `book_budget_usd`).
pub fn default_budget(conn: &mut DbConn, user_id: &str) -> Result<f64, DbError> {
    Ok(plans::of_user(conn, user_id)?.book_budget_usd)
}

/// Sets the book's limit; false when the book is gone.
pub fn set_budget(conn: &mut DbConn, id: &str, budget_usd: f64) -> Result<bool, DbError> {
    let n = diesel::update(books::table.find(id))
        .set((
            books::budget_usd.eq(Some(budget_usd)),
            books::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(n == 1)
}
