//! The quota ledger: one row per architecture or book admitted, counted per sliding hour and per
//! calendar month, released (not deleted) when a book fails for a reason that is not the author's.
//! Admission serializes per user by taking the user's row lock first (`lock_user`), so concurrent
//! requests on any number of nodes never over-admit.

use chrono::NaiveDateTime;
use diesel::dsl::min;
use diesel::prelude::*;

use crate::db::schema::{quota_uses, users};
use crate::db::{new_id, now, DbConn, DbError};

/// Takes the user's row lock for the rest of the transaction (PostgreSQL: a no-op UPDATE locks the
/// row; SQLite: the immediate transaction already holds the database's write lock).
pub fn lock_user(conn: &mut DbConn, user_id: &str) -> Result<bool, DbError> {
    let n = diesel::update(users::table.find(user_id))
        .set(users::plan.eq(users::plan))
        .execute(conn)?;
    Ok(n > 0)
}

/// The user's uses not given back that any quota figure counts: books since `books_since` and
/// everything since `all_since`, as (kind, used at). One statement for all of a user's figures; at
/// most a plan's monthly books plus an hour's uses.
pub fn counted_uses(
    conn: &mut DbConn,
    user_id: &str,
    books_since: NaiveDateTime,
    all_since: NaiveDateTime,
) -> Result<Vec<(String, NaiveDateTime)>, DbError> {
    Ok(quota_uses::table
        .filter(quota_uses::user_id.eq(user_id))
        .filter(quota_uses::released_at.is_null())
        .filter(
            quota_uses::kind
                .eq("book")
                .and(quota_uses::used_at.gt(books_since))
                .or(quota_uses::used_at.gt(all_since)),
        )
        .select((quota_uses::kind, quota_uses::used_at))
        .load(conn)?)
}

/// The oldest counted use since `since` (when the window frees a slot).
pub fn oldest_since(
    conn: &mut DbConn,
    user_id: &str,
    kind: &str,
    since: NaiveDateTime,
) -> Result<Option<NaiveDateTime>, DbError> {
    Ok(quota_uses::table
        .filter(quota_uses::user_id.eq(user_id))
        .filter(quota_uses::kind.eq(kind))
        .filter(quota_uses::used_at.gt(since))
        .filter(quota_uses::released_at.is_null())
        .select(min(quota_uses::used_at))
        .first(conn)?)
}

pub fn record(
    conn: &mut DbConn,
    user_id: &str,
    kind: &str,
    book_id: Option<&str>,
) -> Result<String, DbError> {
    let id = new_id();
    diesel::insert_into(quota_uses::table)
        .values((
            quota_uses::id.eq(&id),
            quota_uses::user_id.eq(user_id),
            quota_uses::kind.eq(kind),
            quota_uses::book_id.eq(book_id),
            quota_uses::used_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(id)
}

/// Ties a use taken before its book existed to the book (so it can be given back).
pub fn attach(conn: &mut DbConn, use_id: &str, book_id: &str) -> Result<(), DbError> {
    diesel::update(quota_uses::table.find(use_id))
        .set(quota_uses::book_id.eq(book_id))
        .execute(conn)?;
    Ok(())
}

/// Gives back the book's uses of `kind` not given back yet; returns how many (0 on a repeat).
pub fn release(conn: &mut DbConn, book_id: &str, kind: &str) -> Result<usize, DbError> {
    Ok(diesel::update(
        quota_uses::table
            .filter(quota_uses::book_id.eq(book_id))
            .filter(quota_uses::kind.eq(kind))
            .filter(quota_uses::released_at.is_null()),
    )
    .set(quota_uses::released_at.eq(Some(now())))
    .execute(conn)?)
}
