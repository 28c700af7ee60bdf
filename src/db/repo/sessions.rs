//! Sign-in sessions (one row per signed-in browser): created at login, looked up on every request
//! through the `sessions` use case's cache, deleted at logout. A row that is gone is a session that
//! has ended, on every node.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::credential_epoch;
use crate::db::models::{SessionRow, User};
use crate::db::schema::{sessions, users};
use crate::db::{new_id, now, DbConn, DbError};

/// Creates a session for the user and returns it.
pub fn create(
    conn: &mut DbConn,
    user_id: &str,
    user_agent: &str,
    ip: &str,
) -> Result<SessionRow, DbError> {
    let t = now();
    let row = SessionRow {
        id: new_id(),
        user_id: user_id.to_string(),
        created_at: t,
        last_seen_at: t,
        user_agent: user_agent.to_string(),
        ip: ip.to_string(),
    };
    diesel::insert_into(sessions::table)
        .values(&row)
        .execute(conn)?;
    Ok(row)
}

/// The session and its user, if the session exists and was seen after `idle_since`.
pub fn find_active(
    conn: &mut DbConn,
    id: &str,
    idle_since: NaiveDateTime,
) -> Result<Option<(SessionRow, User)>, DbError> {
    Ok(sessions::table
        .inner_join(users::table)
        .filter(sessions::id.eq(id))
        .filter(sessions::last_seen_at.gt(idle_since))
        .select((SessionRow::as_select(), User::as_select()))
        .first(conn)
        .optional()?)
}

/// Marks the session seen now (callers rate-limit this: it is a write).
pub fn touch(conn: &mut DbConn, id: &str) -> Result<(), DbError> {
    diesel::update(sessions::table.find(id))
        .set(sessions::last_seen_at.eq(now()))
        .execute(conn)?;
    Ok(())
}

/// The user's sessions, most recently seen first.
pub fn list_for_user(conn: &mut DbConn, user_id: &str) -> Result<Vec<SessionRow>, DbError> {
    Ok(sessions::table
        .filter(sessions::user_id.eq(user_id))
        .order(sessions::last_seen_at.desc())
        .select(SessionRow::as_select())
        .load(conn)?)
}

/// Deletes one session; with `user_id`, only if it belongs to that user. Returns whether it existed.
pub fn delete(conn: &mut DbConn, id: &str, user_id: Option<&str>) -> Result<bool, DbError> {
    let n = credential_epoch::ending(
        conn,
        |c| {
            Ok(match user_id {
                Some(uid) => diesel::delete(
                    sessions::table
                        .filter(sessions::id.eq(id))
                        .filter(sessions::user_id.eq(uid)),
                )
                .execute(c)?,
                None => diesel::delete(sessions::table.find(id)).execute(c)?,
            })
        },
        |n| *n > 0,
    )?;
    Ok(n > 0)
}

/// Deletes every session of the user; returns how many.
pub fn delete_all_for_user(conn: &mut DbConn, user_id: &str) -> Result<usize, DbError> {
    credential_epoch::ending(
        conn,
        |c| Ok(diesel::delete(sessions::table.filter(sessions::user_id.eq(user_id))).execute(c)?),
        |n| *n > 0,
    )
}

/// Deletes sessions idle since before `idle_since` (housekeeping at sign-in).
pub fn delete_idle(conn: &mut DbConn, idle_since: NaiveDateTime) -> Result<usize, DbError> {
    credential_epoch::ending(
        conn,
        |c| {
            Ok(
                diesel::delete(sessions::table.filter(sessions::last_seen_at.le(idle_since)))
                    .execute(c)?,
            )
        },
        |n| *n > 0,
    )
}

/// Which of `ids` still exist (one query for a node's live WebSocket sessions).
pub fn existing(conn: &mut DbConn, ids: &[String]) -> Result<Vec<String>, DbError> {
    Ok(sessions::table
        .filter(sessions::id.eq_any(ids))
        .select(sessions::id)
        .load(conn)?)
}
