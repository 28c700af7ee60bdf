//! Claiming and settling jobs: `claim` (PostgreSQL `FOR UPDATE SKIP LOCKED`, SQLite immediate
//! transaction), lease renewal, and `complete` / `fail` / `retry_later` (the sweeper of expired leases
//! is in `sweep`). Every write after the claim is conditioned on `(id, locked_by, fence, running)`,
//! so an owner whose lease was swept or taken over changes nothing and learns it lost the job.
//!
//! Fences come from one global, strictly increasing counter (a sequence on PostgreSQL, a one-row table
//! on SQLite), so a reclaimed job — or a later job for the same book — always carries a higher fence
//! than any earlier owner; the book store refuses commits with an older fence.
//!
//! Times are the nodes' UTC clocks (`db::now`); nodes are expected to be NTP-synced, and the lease
//! (15 s by default) dwarfs ordinary skew.

use std::time::Duration;

use buko_actors::Fence;
use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Integer, Text, Timestamp};

use super::{JobPayload, QueueName};
use crate::db::schema::jobs;
use crate::db::{now, DbConn, DbError};

pub const STATUS_QUEUED: &str = "queued";
pub const STATUS_RUNNING: &str = "running";
pub const STATUS_COMPLETED: &str = "completed";
pub const STATUS_FAILED: &str = "failed";

/// Who holds a running job: enough to renew, settle or detect the loss of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobLease {
    pub job_id: String,
    pub worker_id: String,
    pub fence: Fence,
}

/// A job this worker now owns until its lease expires.
#[derive(Clone, Debug)]
pub struct ClaimedJob {
    pub id: String,
    pub queue: QueueName,
    pub payload: JobPayload,
    /// Including this one (1 on the first run).
    pub attempts: i32,
    pub max_attempts: i32,
    pub fence: Fence,
    pub worker_id: String,
}

impl ClaimedJob {
    pub fn lease(&self) -> JobLease {
        JobLease {
            job_id: self.id.clone(),
            worker_id: self.worker_id.clone(),
            fence: self.fence,
        }
    }
}

#[derive(QueryableByName)]
struct ClaimedRow {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    queue: String,
    #[diesel(sql_type = Text)]
    payload: String,
    #[diesel(sql_type = Integer)]
    attempts: i32,
    #[diesel(sql_type = Integer)]
    max_attempts: i32,
    #[diesel(sql_type = BigInt)]
    fence: i64,
}

#[derive(QueryableByName)]
struct FenceRow {
    #[diesel(sql_type = BigInt)]
    value: i64,
}

/// Claims the most urgent due job of `queues` (priority, then run_at, then age) for `worker_id`, with a
/// lease of `lease`. `None` when nothing is due. A job whose payload cannot be read is failed on the spot
/// (it could never run) and the next one is tried.
pub fn claim(
    conn: &mut DbConn,
    queues: &[QueueName],
    worker_id: &str,
    lease: Duration,
) -> Result<Option<ClaimedJob>, DbError> {
    if queues.is_empty() {
        return Ok(None);
    }
    loop {
        let t = now();
        let until = t + lease_delta(lease);
        let names: Vec<String> = queues.iter().map(|q| q.as_str().to_string()).collect();
        let row = match conn {
            DbConn::Pg(c) => {
                let priorities: Vec<i32> = queues.iter().map(|q| q.priority()).collect();
                claim_pg(c, &names, &priorities, worker_id, t, until)?
            }
            DbConn::Sqlite(c) => claim_sqlite(c, &names, worker_id, t, until)?,
        };
        let Some(row) = row else { return Ok(None) };
        let queue = QueueName::parse(&row.queue);
        let payload = serde_json::from_str::<JobPayload>(&row.payload);
        let (Some(queue), Ok(payload)) = (queue, payload) else {
            log::error!(target: "buko::queue", job = row.id.as_str(); "unreadable job payload; failing it");
            diesel::update(jobs::table.find(&row.id))
                .set((
                    jobs::status.eq(STATUS_FAILED),
                    jobs::locked_by.eq(None::<String>),
                    jobs::lease_until.eq(None::<NaiveDateTime>),
                    jobs::last_error.eq("unreadable payload"),
                    jobs::updated_at.eq(t),
                ))
                .execute(conn)?;
            continue;
        };
        return Ok(Some(ClaimedJob {
            id: row.id,
            queue,
            payload,
            attempts: row.attempts,
            max_attempts: row.max_attempts,
            fence: Fence(row.fence),
            worker_id: worker_id.to_string(),
        }));
    }
}

fn claim_pg(
    c: &mut PgConnection,
    queues: &[String],
    priorities: &[i32],
    worker_id: &str,
    t: NaiveDateTime,
    until: NaiveDateTime,
) -> Result<Option<ClaimedRow>, DbError> {
    // SKIP LOCKED: concurrent claimers pass over rows another transaction is taking, so each job goes
    // to exactly one of them without waiting. The priority condition (a job's priority is its queue's,
    // set by `enqueue`) lets the partial index `jobs_queued_order` serve the ORDER BY without a sort.
    let rows: Vec<ClaimedRow> = diesel::sql_query(
        "WITH next AS ( \
           SELECT id FROM jobs \
           WHERE status = 'queued' AND run_at <= $1 AND queue = ANY($2) AND priority = ANY($5) \
           ORDER BY priority, run_at, created_at \
           LIMIT 1 FOR UPDATE SKIP LOCKED) \
         UPDATE jobs SET status = 'running', locked_by = $3, lease_until = $4, \
           attempts = jobs.attempts + 1, fence = nextval('jobs_fence_seq'), updated_at = $1 \
         FROM next WHERE jobs.id = next.id \
         RETURNING jobs.id, jobs.queue, jobs.payload, jobs.attempts, jobs.max_attempts, jobs.fence",
    )
    .bind::<Timestamp, _>(t)
    .bind::<Array<Text>, _>(queues)
    .bind::<Text, _>(worker_id)
    .bind::<Timestamp, _>(until)
    .bind::<Array<Integer>, _>(priorities)
    .load(c)?;
    Ok(rows.into_iter().next())
}

fn claim_sqlite(
    c: &mut SqliteConnection,
    queues: &[String],
    worker_id: &str,
    t: NaiveDateTime,
    until: NaiveDateTime,
) -> Result<Option<ClaimedRow>, DbError> {
    // IMMEDIATE takes the write lock before reading, so two claimers cannot pick the same row.
    c.immediate_transaction(|c| {
        let id: Option<String> = jobs::table
            .select(jobs::id)
            .filter(jobs::status.eq(STATUS_QUEUED))
            .filter(jobs::run_at.le(t))
            .filter(jobs::queue.eq_any(queues))
            .order((
                jobs::priority.asc(),
                jobs::run_at.asc(),
                jobs::created_at.asc(),
            ))
            .first(c)
            .optional()?;
        let Some(id) = id else { return Ok(None) };
        let fence: FenceRow = diesel::sql_query(
            "UPDATE job_fence SET value = value + 1 WHERE id = 1 RETURNING value",
        )
        .get_result(c)?;
        diesel::update(jobs::table.find(&id))
            .set((
                jobs::status.eq(STATUS_RUNNING),
                jobs::locked_by.eq(worker_id),
                jobs::lease_until.eq(until),
                jobs::attempts.eq(jobs::attempts + 1),
                jobs::fence.eq(fence.value),
                jobs::updated_at.eq(t),
            ))
            .execute(c)?;
        let (queue, payload, attempts, max_attempts) = jobs::table
            .find(&id)
            .select((
                jobs::queue,
                jobs::payload,
                jobs::attempts,
                jobs::max_attempts,
            ))
            .first::<(String, String, i32, i32)>(c)?;
        Ok(Some(ClaimedRow {
            id,
            queue,
            payload,
            attempts,
            max_attempts,
            fence: fence.value,
        }))
    })
}

/// The rows still owned by `lease`: running, locked by this worker, with this fence.
macro_rules! owned {
    ($lease:expr) => {
        jobs::table
            .filter(jobs::id.eq(&$lease.job_id))
            .filter(jobs::status.eq(STATUS_RUNNING))
            .filter(jobs::locked_by.eq(&$lease.worker_id))
            .filter(jobs::fence.eq($lease.fence.0))
    };
}

/// Extends the lease; `false` when it was lost (swept or taken over): the holder must stop.
pub fn renew(conn: &mut DbConn, lease: &JobLease, duration: Duration) -> Result<bool, DbError> {
    let t = now();
    let n = diesel::update(owned!(lease))
        .set((
            jobs::lease_until.eq(t + lease_delta(duration)),
            jobs::updated_at.eq(t),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Marks the job done; `false` when the lease had been lost (someone else may be running it).
///
/// A book job that ends while its book waits to be written again (the author resumed it after the
/// run's last look at the control flag, so the resume's own job merged into this one) leaves a new
/// job behind in the same transaction: a resume is never lost between a run and its settling.
pub fn complete(conn: &mut DbConn, lease: &JobLease) -> Result<bool, DbError> {
    crate::db::write_tx(conn, |conn| {
        let n = diesel::update(owned!(lease))
            .set((
                jobs::status.eq(STATUS_COMPLETED),
                jobs::locked_by.eq(None::<String>),
                jobs::lease_until.eq(None::<NaiveDateTime>),
                jobs::updated_at.eq(now()),
            ))
            .execute(conn)?;
        if n == 1 {
            requeue_resumed_book(conn, &lease.job_id)?;
        }
        Ok(n == 1)
    })
}

fn requeue_resumed_book(conn: &mut DbConn, job_id: &str) -> Result<(), DbError> {
    use crate::db::schema::books;
    let key: Option<String> = jobs::table
        .find(job_id)
        .select(jobs::unique_key)
        .first::<Option<String>>(conn)?;
    let Some(book_id) = key.as_deref().and_then(|k| k.strip_prefix("book:")) else {
        return Ok(());
    };
    let waiting = books::table
        .find(book_id)
        .filter(books::status.eq(buko_actors::BookStatus::Queued.as_str()))
        .filter(books::control.eq("run"))
        .count()
        .get_result::<i64>(conn)?
        > 0;
    if waiting {
        super::enqueue(
            conn,
            super::NewJob::now(JobPayload::Book {
                book_id: book_id.to_string(),
                regenerate_chapter: None,
                instruction: None,
                refresh_following: false,
            }),
        )?;
    }
    Ok(())
}

/// What became of a failed attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failed {
    /// Back in the queue, due at `run_at`.
    Requeued { run_at: NaiveDateTime },
    /// No attempts left (or a permanent failure): status `failed` with `last_error`.
    Dead,
    /// The lease had been lost; nothing was changed.
    LeaseLost,
}

/// Records a failed attempt: back to `queued` after `retry_after` (default: [`backoff`] of the attempts
/// so far) while attempts remain, else `failed`. `permanent` skips the remaining attempts.
pub fn fail(
    conn: &mut DbConn,
    lease: &JobLease,
    error: &str,
    retry_after: Option<Duration>,
    permanent: bool,
) -> Result<Failed, DbError> {
    let t = now();
    let row: Option<(i32, i32)> = owned!(lease)
        .select((jobs::attempts, jobs::max_attempts))
        .first(conn)
        .optional()?;
    let Some((attempts, max_attempts)) = row else {
        return Ok(Failed::LeaseLost);
    };
    let error = truncate(error);
    if permanent || attempts >= max_attempts {
        let n = diesel::update(owned!(lease))
            .set((
                jobs::status.eq(STATUS_FAILED),
                jobs::locked_by.eq(None::<String>),
                jobs::lease_until.eq(None::<NaiveDateTime>),
                jobs::last_error.eq(error),
                jobs::updated_at.eq(t),
            ))
            .execute(conn)?;
        return Ok(if n == 1 {
            Failed::Dead
        } else {
            Failed::LeaseLost
        });
    }
    let run_at = t + lease_delta(retry_after.unwrap_or_else(|| backoff(attempts)));
    let n = requeue(conn, lease, run_at, Some(error), 0)?;
    Ok(if n == 1 {
        Failed::Requeued { run_at }
    } else {
        Failed::LeaseLost
    })
}

/// Puts the job back for later without spending an attempt (e.g. the provider is paused). `false`
/// when the lease had been lost.
pub fn retry_later(
    conn: &mut DbConn,
    lease: &JobLease,
    run_at: NaiveDateTime,
) -> Result<bool, DbError> {
    Ok(requeue(conn, lease, run_at, None, 1)? == 1)
}

fn requeue(
    conn: &mut DbConn,
    lease: &JobLease,
    run_at: NaiveDateTime,
    error: Option<String>,
    refund_attempts: i32,
) -> Result<usize, DbError> {
    let t = now();
    let n = diesel::update(owned!(lease))
        .set((
            jobs::status.eq(STATUS_QUEUED),
            jobs::locked_by.eq(None::<String>),
            jobs::lease_until.eq(None::<NaiveDateTime>),
            jobs::run_at.eq(run_at),
            jobs::attempts.eq(jobs::attempts - refund_attempts),
            jobs::updated_at.eq(t),
        ))
        .execute(conn)?;
    if n == 1 {
        if let Some(e) = error {
            diesel::update(jobs::table.find(&lease.job_id))
                .set(jobs::last_error.eq(e))
                .execute(conn)?;
        }
    }
    Ok(n)
}

/// Gives a running job back at once because its node is shutting down: queued, due now, the attempt
/// refunded (the job did not fail), and — on PostgreSQL — idle workers of every node woken in the same
/// transaction, so another node resumes it within moments instead of after the lease. `false` when the
/// lease had already been lost.
pub fn release(conn: &mut DbConn, lease: &JobLease, queue: QueueName) -> Result<bool, DbError> {
    crate::db::write_tx(conn, |c| {
        let released = requeue(c, lease, now(), Some("released at node shutdown".into()), 1)? == 1;
        if released {
            super::notify(c, queue)?;
        }
        Ok(released)
    })
}

/// Delay before retrying after `attempts` failed attempts: 5 s, 10 s, 20 s, … capped at 10 minutes.
pub fn backoff(attempts: i32) -> Duration {
    let exp = attempts.clamp(1, 16) as u32 - 1;
    Duration::from_secs((5u64 << exp).min(600))
}

pub(super) fn lease_delta(d: Duration) -> chrono::TimeDelta {
    chrono::TimeDelta::from_std(d).unwrap_or(chrono::TimeDelta::MAX)
}

/// Keeps stored errors bounded (a provider's error body can be large).
fn truncate(error: &str) -> String {
    error.chars().take(2000).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff(1), Duration::from_secs(5));
        assert_eq!(backoff(2), Duration::from_secs(10));
        assert_eq!(backoff(4), Duration::from_secs(40));
        assert_eq!(backoff(30), Duration::from_secs(600));
        assert_eq!(backoff(0), Duration::from_secs(5));
    }
}
