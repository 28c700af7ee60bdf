//! Queue maintenance run by every node: the sweeper that returns expired leases to the queue, and the
//! per-queue counts shown by readiness and the admin dashboard.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::claim::{STATUS_FAILED, STATUS_QUEUED, STATUS_RUNNING};
use crate::db::schema::jobs;
use crate::db::{now, DbConn, DbError};

/// What one sweep did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Swept {
    pub requeued: usize,
    pub failed: usize,
}

/// Returns running jobs whose lease expired (their node died or stalled) to the queue, due now; a job
/// that already used all its attempts is failed instead, so a job that kills its node cannot loop.
pub fn sweep(conn: &mut DbConn) -> Result<Swept, DbError> {
    let t = now();
    let expired = || {
        jobs::table
            .filter(jobs::status.eq(STATUS_RUNNING))
            .filter(jobs::lease_until.lt(t))
    };
    let failed = diesel::update(expired().filter(jobs::attempts.ge(jobs::max_attempts)))
        .set((
            jobs::status.eq(STATUS_FAILED),
            jobs::locked_by.eq(None::<String>),
            jobs::lease_until.eq(None::<NaiveDateTime>),
            jobs::last_error.eq("lease expired on the last attempt"),
            jobs::updated_at.eq(t),
        ))
        .execute(conn)?;
    let requeued = diesel::update(expired())
        .set((
            jobs::status.eq(STATUS_QUEUED),
            jobs::locked_by.eq(None::<String>),
            jobs::lease_until.eq(None::<NaiveDateTime>),
            jobs::run_at.eq(t),
            jobs::last_error.eq("lease expired"),
            jobs::updated_at.eq(t),
        ))
        .execute(conn)?;
    if requeued + failed > 0 {
        log::warn!(target: "buko::queue", requeued = requeued, failed = failed; "expired leases swept");
    }
    Ok(Swept { requeued, failed })
}

/// Counts of jobs per (queue, status), for readiness and the admin dashboard.
pub fn counts(conn: &mut DbConn) -> Result<Vec<(String, String, i64)>, DbError> {
    use diesel::dsl::count_star;
    Ok(jobs::table
        .filter(jobs::status.eq_any([STATUS_QUEUED, STATUS_RUNNING]))
        .group_by((jobs::queue, jobs::status))
        .select((jobs::queue, jobs::status, count_star()))
        .load(conn)?)
}
