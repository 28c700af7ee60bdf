//! Plan quotas per user (SPEC "Rules and limits"): architectures and approved books per sliding hour,
//! approved books per calendar month (UTC) and the longest book, all read from the user's current plan
//! (`plans` table). Uses are rows of the quota ledger (`db::repo::quota`), counted when the action is
//! accepted and given back when a book fails for a reason that is not the author's. Admission takes the
//! user's row lock, so it holds across nodes without Redis and never over-admits.

use chrono::{Datelike, NaiveDate, NaiveDateTime};

use crate::db::models::User;
use crate::db::repo::{self, plans::Plan};
use crate::db::{self, write_tx, DbConn, DbError, DbPool};

pub const HOUR_SECS: i64 = 3600;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quota {
    Architecture,
    Book,
}

impl Quota {
    pub fn kind(self) -> &'static str {
        match self {
            Quota::Architecture => "architecture",
            Quota::Book => "book",
        }
    }
}

/// What the user has used and may still use, by their current plan.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Usage {
    pub plan: Plan,
    pub architectures_used_hour: i64,
    pub books_used_hour: i64,
    pub books_used_month: i64,
}

impl Usage {
    pub fn architectures_left_hour(&self) -> u64 {
        left(
            self.plan.architectures_per_hour,
            self.architectures_used_hour,
        )
    }
    pub fn books_left_hour(&self) -> u64 {
        left(self.plan.books_per_hour, self.books_used_hour)
    }
    pub fn books_left_month(&self) -> u64 {
        left(self.plan.books_per_month, self.books_used_month)
    }
    /// Uses left of `quota` now (the book quota is bounded by the month too).
    pub fn remaining(&self, quota: Quota) -> u64 {
        match quota {
            Quota::Architecture => self.architectures_left_hour(),
            Quota::Book => self.books_left_hour().min(self.books_left_month()),
        }
    }
}

fn left(limit: i32, used: i64) -> u64 {
    u64::try_from(i64::from(limit) - used).unwrap_or(0)
}

fn hour_ago(now: NaiveDateTime) -> NaiveDateTime {
    now - chrono::Duration::seconds(HOUR_SECS)
}

/// Midnight UTC of the first day of `now`'s month.
pub fn month_start(now: NaiveDateTime) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(now.year(), now.month(), 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or(now)
}

fn next_month_start(now: NaiveDateTime) -> NaiveDateTime {
    let (y, m) = if now.month() == 12 {
        (now.year() + 1, 1)
    } else {
        (now.year(), now.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or(now)
}

/// The usage figures (storage only; call inside or outside a transaction).
pub fn usage_of(conn: &mut DbConn, user_id: &str) -> Result<Usage, DbError> {
    let plan = crate::billing::plan::effective_plan(conn, user_id)?;
    let now = db::now();
    let hour = hour_ago(now);
    // `>` in the query: one microsecond before midnight keeps a use at exactly 00:00 in.
    let month = month_start(now) - chrono::Duration::microseconds(1);
    let uses = repo::quota::counted_uses(conn, user_id, month, hour)?;
    let count = |kind: &str, since: NaiveDateTime| {
        let n = uses
            .iter()
            .filter(|(k, at)| k == kind && *at > since)
            .count();
        i64::try_from(n).unwrap_or(i64::MAX)
    };
    Ok(Usage {
        architectures_used_hour: count("architecture", hour),
        books_used_hour: count("book", hour),
        books_used_month: count("book", month),
        plan,
    })
}

/// Why a use was refused.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    /// Used up for now: one more use is allowed in this many seconds (at least 1).
    #[error("quota exceeded; retry in {retry_after} s")]
    Exceeded { retry_after: u64 },
    /// The book is longer than the plan allows.
    #[error("your plan allows books of up to {max_pages} pages; shorten the book or change plan")]
    TooLong { max_pages: i32 },
    #[error(transparent)]
    Storage(#[from] DbError),
}

enum Admission {
    Admitted(String),
    Refused { retry_after: u64 },
    TooLong(i32),
}

/// Counts one use of the quota (tied to `book_id` when the book exists already), or `429` with the
/// wait; a book longer than the plan allows is refused too. Returns the use's id (see [`attach`]).
pub async fn take(
    db_pool: &DbPool,
    user: &User,
    quota: Quota,
    book_id: Option<&str>,
) -> Result<String, Refused> {
    let (uid, book) = (user.id.clone(), book_id.map(str::to_string));
    let admission = db::run(db_pool, move |c| {
        write_tx(c, |c| {
            repo::quota::lock_user(c, &uid)?;
            let usage = usage_of(c, &uid)?;
            let now = db::now();
            if quota == Quota::Book {
                if let Some(b) = &book {
                    let pages = repo::books::get(c, b)?.target_pages;
                    if pages > usage.plan.max_pages {
                        return Ok(Admission::TooLong(usage.plan.max_pages));
                    }
                }
            }
            if let Some(retry_after) = wait_of(c, &uid, quota, &usage, now)? {
                return Ok(Admission::Refused { retry_after });
            }
            Ok(Admission::Admitted(repo::quota::record(
                c,
                &uid,
                quota.kind(),
                book.as_deref(),
            )?))
        })
    })
    .await?;
    match admission {
        Admission::Admitted(id) => Ok(id),
        Admission::Refused { retry_after } => Err(Refused::Exceeded { retry_after }),
        Admission::TooLong(max_pages) => Err(Refused::TooLong { max_pages }),
    }
}

/// Ties a use taken before its book existed (an architecture) to the book.
pub async fn attach(db_pool: &DbPool, use_id: String, book_id: String) -> Result<(), DbError> {
    db::run(db_pool, move |c| repo::quota::attach(c, &use_id, &book_id)).await?;
    Ok(())
}

/// Gives back what the book took of `quota` (a failure that was not the author's); idempotent.
pub fn give_back(conn: &mut DbConn, book_id: &str, quota: Quota) -> Result<usize, DbError> {
    repo::quota::release(conn, book_id, quota.kind())
}

/// Uses left in the current hour (and month, for books).
pub async fn remaining(db_pool: &DbPool, user: &User, quota: Quota) -> Result<u64, DbError> {
    Ok(usage(db_pool, user).await?.remaining(quota))
}

/// Uses left of `quota` now and, when none is left, the seconds until one is (what a page shows
/// next to a disabled button).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Availability {
    pub left: u64,
    pub wait_secs: Option<u64>,
}

pub async fn availability(
    db_pool: &DbPool,
    user: &User,
    quota: Quota,
) -> Result<Availability, DbError> {
    let uid = user.id.clone();
    db::run(db_pool, move |c| {
        let usage = usage_of(c, &uid)?;
        Ok(Availability {
            left: usage.remaining(quota),
            wait_secs: wait_of(c, &uid, quota, &usage, db::now())?,
        })
    })
    .await
}

/// Seconds until one more use of `quota` is allowed, or `None` when one is allowed now: the month's
/// end when the month's books are used up, else when the oldest use of the sliding hour expires.
fn wait_of(
    c: &mut DbConn,
    uid: &str,
    quota: Quota,
    usage: &Usage,
    now: NaiveDateTime,
) -> Result<Option<u64>, DbError> {
    let secs = |wait: i64| Some(u64::try_from(wait).unwrap_or(1).max(1));
    if quota == Quota::Book && usage.books_left_month() == 0 {
        return Ok(secs((next_month_start(now) - now).num_seconds()));
    }
    let hour_left = match quota {
        Quota::Architecture => usage.architectures_left_hour(),
        Quota::Book => usage.books_left_hour(),
    };
    if hour_left > 0 {
        return Ok(None);
    }
    let oldest = repo::quota::oldest_since(c, uid, quota.kind(), hour_ago(now))?.unwrap_or(now);
    Ok(secs(
        (oldest + chrono::Duration::seconds(HOUR_SECS) - now).num_seconds(),
    ))
}

pub async fn usage(db_pool: &DbPool, user: &User) -> Result<Usage, DbError> {
    let uid = user.id.clone();
    db::run(db_pool, move |c| usage_of(c, &uid)).await
}
