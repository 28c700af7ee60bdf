//! Job rows: what a job is (`JobPayload`), which queue it is on, and how it is enqueued; claiming,
//! leases and completion ([`claim`]), the sweeper's queries ([`sweep`]) and PostgreSQL wake-ups
//! ([`listener`]). All the SQL of the job queue; `crate::queue` runs workers over it.

pub mod claim;
pub mod listener;
pub mod sweep;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::db::schema::jobs;
use crate::db::{new_id, now, DbConn, DbError};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueName {
    Architecture,
    Book,
    Email,
    Billing,
    /// Cover art: low priority, never in a book's way.
    Cover,
}

impl QueueName {
    pub const ALL: [QueueName; 5] = [
        QueueName::Architecture,
        QueueName::Book,
        QueueName::Email,
        QueueName::Billing,
        QueueName::Cover,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            QueueName::Architecture => "architecture",
            QueueName::Book => "book",
            QueueName::Email => "email",
            QueueName::Billing => "billing",
            QueueName::Cover => "cover",
        }
    }

    pub fn parse(s: &str) -> Option<QueueName> {
        QueueName::ALL.into_iter().find(|q| q.as_str() == s)
    }

    /// Lower runs first: an author waiting on an outline beats a book in progress beats an e-mail.
    pub fn priority(self) -> i32 {
        match self {
            QueueName::Architecture => 0,
            QueueName::Book => 10,
            QueueName::Email => 20,
            QueueName::Billing => 5,
            QueueName::Cover => 30,
        }
    }
}

/// What a job does; stored as JSON in `jobs.payload`, its tag in `jobs.kind`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobPayload {
    /// Draft the architecture of a book from its idea.
    Architecture { book_id: String },
    /// Write (or resume) a book; with `regenerate_chapter`, rewrite that chapter first.
    Book {
        book_id: String,
        regenerate_chapter: Option<usize>,
        /// The author's instruction for the regenerated chapter (reaches its prompt).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        instruction: Option<String>,
        /// Rewrite every chapter after the regenerated one too.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        refresh_following: bool,
    },
    /// Tell the author the book is finished.
    BookCompletedEmail { book_id: String },
    /// Tell an account's owner that someone tried to register with their address.
    AccountExistsEmail { user_id: String },
    /// Act on a stored payment webhook event (`billing_events.id`).
    BillingEvent { event_id: String },
    /// Generate `count` cover art candidates from the prompt stored with the book's cover.
    CoverArt { book_id: String, count: u32 },
}

impl JobPayload {
    pub fn queue(&self) -> QueueName {
        match self {
            JobPayload::Architecture { .. } => QueueName::Architecture,
            JobPayload::Book { .. } => QueueName::Book,
            JobPayload::BookCompletedEmail { .. } | JobPayload::AccountExistsEmail { .. } => {
                QueueName::Email
            }
            JobPayload::BillingEvent { .. } => QueueName::Billing,
            JobPayload::CoverArt { .. } => QueueName::Cover,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            JobPayload::Architecture { .. } => "architecture",
            JobPayload::Book { .. } => "book",
            JobPayload::BookCompletedEmail { .. } => "book_completed_email",
            JobPayload::AccountExistsEmail { .. } => "account_exists_email",
            JobPayload::BillingEvent { .. } => "billing_event",
            JobPayload::CoverArt { .. } => "cover_art",
        }
    }

    /// At most one queued-or-running job per key: one architecture and one generation per book.
    pub fn unique_key(&self) -> Option<String> {
        match self {
            JobPayload::Architecture { book_id } => Some(format!("architecture:{book_id}")),
            JobPayload::Book { book_id, .. } => Some(format!("book:{book_id}")),
            JobPayload::BookCompletedEmail { .. } => None,
            // One notice per account at a time: repeated attempts must not become a mail flood.
            JobPayload::AccountExistsEmail { user_id } => Some(format!("account_exists:{user_id}")),
            JobPayload::BillingEvent { event_id } => Some(format!("billing_event:{event_id}")),
            // One generation per book at a time.
            JobPayload::CoverArt { book_id, .. } => Some(format!("cover:{book_id}")),
        }
    }
}

pub struct NewJob {
    pub payload: JobPayload,
    pub run_at: Option<NaiveDateTime>,
    pub max_attempts: i32,
}

impl NewJob {
    pub fn now(payload: JobPayload) -> NewJob {
        NewJob {
            payload,
            run_at: None,
            max_attempts: 5,
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum Enqueued {
    Created(String),
    /// An active job with the same unique key exists; nothing was added.
    AlreadyActive,
}

/// Adds a job; an active duplicate (same `unique_key`) is reported, not added. Call it inside the
/// transaction that changes the book, so the state change and its job commit together.
pub fn enqueue(conn: &mut DbConn, job: NewJob) -> Result<Enqueued, DbError> {
    let t = now();
    let id = new_id();
    let payload = serde_json::to_string(&job.payload)
        .map_err(|e| DbError::Query(diesel::result::Error::SerializationError(Box::new(e))))?;
    // In a savepoint of its own: on PostgreSQL a unique violation aborts the whole enclosing
    // transaction otherwise, and the caller's COMMIT would silently roll its book change back.
    let inserted = conn.transaction(|conn| {
        diesel::insert_into(jobs::table)
            .values((
                jobs::id.eq(&id),
                jobs::queue.eq(job.payload.queue().as_str()),
                jobs::priority.eq(job.payload.queue().priority()),
                jobs::kind.eq(job.payload.kind()),
                jobs::payload.eq(payload),
                jobs::status.eq("queued"),
                jobs::attempts.eq(0),
                jobs::max_attempts.eq(job.max_attempts),
                jobs::run_at.eq(job.run_at.unwrap_or(t)),
                jobs::fence.eq(0i64),
                jobs::unique_key.eq(job.payload.unique_key()),
                jobs::created_at.eq(t),
                jobs::updated_at.eq(t),
            ))
            .execute(conn)
    });
    match inserted {
        Ok(_) => {
            notify(conn, job.payload.queue())?;
            Ok(Enqueued::Created(id))
        }
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(Enqueued::AlreadyActive),
        Err(e) => Err(e.into()),
    }
}

/// The PostgreSQL channel idle workers LISTEN on; the payload is the queue name.
pub const NOTIFY_CHANNEL: &str = "buko_jobs";

/// Wakes idle workers on every node (PostgreSQL; delivered when the enclosing transaction commits).
/// SQLite has a single node whose workers poll briefly, so there is nothing to send.
pub(super) fn notify(conn: &mut DbConn, queue: QueueName) -> Result<(), DbError> {
    if let DbConn::Pg(c) = conn {
        diesel::sql_query("SELECT pg_notify($1, $2)")
            .bind::<diesel::sql_types::Text, _>(NOTIFY_CHANNEL)
            .bind::<diesel::sql_types::Text, _>(queue.as_str())
            .execute(c)?;
    }
    Ok(())
}

/// Jobs per (queue, status), for the metrics endpoint.
pub fn counts_by_queue_and_status(
    conn: &mut DbConn,
) -> Result<Vec<(String, String, i64)>, DbError> {
    Ok(jobs::table
        .group_by((jobs::queue, jobs::status))
        .select((jobs::queue, jobs::status, diesel::dsl::count_star()))
        .load::<(String, String, i64)>(conn)?)
}
