//! Queries only the admin panel and the dashboard sampler need: user search and role-limited edits,
//! books across all users, per-book usage, queue depths and LLM call figures over a recent window.
//! Writes here are the ones an operator makes; the author's own flows stay in `users` / `books`.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::models::User;
use crate::db::repo::books::Book;
use crate::db::schema::{books, events, jobs, llm_calls, users};
use crate::db::{now, DbConn, DbError};

/// Roles an operator may assign.
pub const ROLES: [&str; 2] = ["user", "admin"];

/// Users whose e-mail contains `q` (case-insensitive; all users when `q` is empty), newest first.
pub fn search_users(conn: &mut DbConn, q: &str, limit: i64) -> Result<Vec<User>, DbError> {
    let mut query = users::table
        .select(User::as_select())
        .order(users::created_at.desc())
        .limit(limit)
        .into_boxed();
    let q = q.trim().to_lowercase();
    if !q.is_empty() {
        // E-mails are stored lower-cased, so a plain LIKE is case-insensitive on both backends.
        query = query.filter(
            users::email
                .like(format!("%{}%", escape_like(&q)))
                .escape('\\'),
        );
    }
    Ok(query.load(conn)?)
}

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

pub fn set_plan(conn: &mut DbConn, id: &str, plan: &str) -> Result<bool, DbError> {
    let n = diesel::update(users::table.find(id))
        .set((users::plan.eq(plan), users::updated_at.eq(now())))
        .execute(conn)?;
    Ok(n > 0)
}

/// Changes the role; a role change also ends the user's sessions so no cookie keeps the old powers.
pub fn set_role(conn: &mut DbConn, id: &str, role: &str) -> Result<bool, DbError> {
    let n = diesel::update(users::table.find(id))
        .set((
            users::role.eq(role),
            users::session_version.eq(users::session_version + 1),
            users::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(n > 0)
}

/// Clears the failed-login counter and any lockout.
pub fn unlock(conn: &mut DbConn, id: &str) -> Result<bool, DbError> {
    let email: Option<String> = users::table
        .find(id)
        .select(users::email)
        .first(conn)
        .optional()?;
    if let Some(email) = email {
        super::login_throttle::clear(conn, &email)?;
    }
    let n = diesel::update(users::table.find(id))
        .set((
            users::failed_logins.eq(0),
            users::locked_until.eq(None::<NaiveDateTime>),
            users::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(n > 0)
}

/// Active admins other than `except` (an operator may not demote or disable the last admin).
pub fn other_admins(conn: &mut DbConn, except: &str) -> Result<i64, DbError> {
    Ok(users::table
        .filter(users::role.eq(crate::db::models::ROLE_ADMIN))
        .filter(users::disabled.eq(false))
        .filter(users::id.ne(except))
        .count()
        .get_result(conn)?)
}

/// A book with its owner's e-mail, for the generations list.
#[derive(Clone, Debug, Serialize)]
pub struct BookRow {
    pub book: Book,
    pub owner_email: String,
}

/// Books of every user, newest activity first, optionally of one status.
pub fn list_books(
    conn: &mut DbConn,
    status: Option<buko_actors::BookStatus>,
    limit: i64,
) -> Result<Vec<BookRow>, DbError> {
    let mut query = books::table
        .inner_join(users::table)
        .select((Book::as_select(), users::email))
        .order(books::updated_at.desc())
        .limit(limit)
        .into_boxed();
    if let Some(s) = status {
        query = query.filter(books::status.eq(s.as_str()));
    }
    let rows: Vec<(Book, String)> = query.load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(book, owner_email)| BookRow { book, owner_email })
        .collect())
}

#[derive(Clone, Debug, Queryable, Serialize)]
pub struct EventRow {
    pub seq: i64,
    pub kind: String,
    pub data: String,
    pub created_at: NaiveDateTime,
}

/// The latest `limit` events of a book, newest first.
pub fn book_events(conn: &mut DbConn, book_id: &str, limit: i64) -> Result<Vec<EventRow>, DbError> {
    Ok(events::table
        .filter(events::book_id.eq(book_id))
        .order(events::seq.desc())
        .limit(limit)
        .select((events::seq, events::kind, events::data, events::created_at))
        .load(conn)?)
}

#[derive(Clone, Debug, Queryable, Serialize)]
pub struct CallRow {
    pub purpose: String,
    pub provider: String,
    pub model: String,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cost_usd: f64,
    pub latency_ms: i64,
    pub status: String,
    pub error_kind: Option<String>,
    pub request_id: Option<String>,
    pub created_at: NaiveDateTime,
}

/// The latest LLM calls made for a book, newest first.
pub fn book_calls(conn: &mut DbConn, book_id: &str, limit: i64) -> Result<Vec<CallRow>, DbError> {
    Ok(llm_calls::table
        .filter(llm_calls::book_id.eq(book_id))
        .order(llm_calls::created_at.desc())
        .limit(limit)
        .select((
            llm_calls::purpose,
            llm_calls::provider,
            llm_calls::model,
            llm_calls::input_tokens,
            llm_calls::output_tokens,
            llm_calls::cost_usd,
            llm_calls::latency_ms,
            llm_calls::status,
            llm_calls::error_kind,
            llm_calls::request_id,
            llm_calls::created_at,
        ))
        .load(conn)?)
}

/// Jobs waiting (`queued`) and `running` per queue: `(queue, status, count)`.
pub fn job_counts(conn: &mut DbConn) -> Result<Vec<(String, String, i64)>, DbError> {
    Ok(jobs::table
        .filter(jobs::status.eq_any(["queued", "running"]))
        .group_by((jobs::queue, jobs::status))
        .select((jobs::queue, jobs::status, diesel::dsl::count_star()))
        .load(conn)?)
}

/// `(output_tokens, latency_ms, ok)` of every LLM call since `since`, for the dashboard's rates and
/// percentiles (bounded: at most `limit` most recent calls).
pub fn calls_since(
    conn: &mut DbConn,
    since: NaiveDateTime,
    limit: i64,
) -> Result<Vec<(NaiveDateTime, i64, i64, bool)>, DbError> {
    let rows: Vec<(NaiveDateTime, i64, i64, String)> = llm_calls::table
        .filter(llm_calls::created_at.ge(since))
        .order(llm_calls::created_at.desc())
        .limit(limit)
        .select((
            llm_calls::created_at,
            llm_calls::output_tokens,
            llm_calls::latency_ms,
            llm_calls::status,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(at, out, lat, status)| (at, out, lat, status == "ok"))
        .collect())
}

/// Totals for one user's books, for `GET /api/v1/usage`: `(books, input, output, cost)`.
pub fn usage_of(conn: &mut DbConn, user_id: &str) -> Result<(i64, i64, i64, f64), DbError> {
    let rows: Vec<(i64, i64, f64)> = books::table
        .filter(books::user_id.eq(user_id))
        .select((books::input_tokens, books::output_tokens, books::cost_usd))
        .load(conn)?;
    let (mut input, mut output, mut cost) = (0i64, 0i64, 0f64);
    for (i, o, c) in &rows {
        input += i;
        output += o;
        cost += c;
    }
    Ok((rows.len() as i64, input, output, cost))
}

/// The latest audit entries with the actor's e-mail (when the actor still exists), newest first.
pub fn audit_with_actors(
    conn: &mut DbConn,
    limit: i64,
) -> Result<Vec<(crate::db::models::AuditEntry, Option<String>)>, DbError> {
    use crate::db::schema::audit_log;
    Ok(audit_log::table
        .left_join(users::table.on(audit_log::actor_id.eq(users::id.nullable())))
        .order(audit_log::created_at.desc())
        .limit(limit)
        .select((
            crate::db::models::AuditEntry::as_select(),
            users::email.nullable(),
        ))
        .load(conn)?)
}
