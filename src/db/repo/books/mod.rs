//! Books as the author drives them: create from the wizard, edit the architecture, approve, and the
//! controls (pause / resume / cancel / regenerate). Every state change is a conditional UPDATE on the
//! current status (so two racing requests cannot both win) and commits together with the job it
//! enqueues. Progress columns (`chunks_*`, `words`, tokens, cost) are written by the engine's BookStore
//! adapter, never here.

use buko_actors::model::{Architecture, BookStatus, Language};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::ids::{BookId, UserId};
use crate::db::repo::jobs::{self, JobPayload, NewJob};
use crate::db::schema::{books, chapters, users};
use crate::db::types::ChapterStatus;
use crate::db::{new_id, now, DbConn, DbError};

mod controls;
mod drafting;
mod library;
pub mod versions;
pub use controls::{control, regenerate_chapter, Control, RegenerateRequest};
pub use drafting::{
    control_flag, fail_architecture, is_cancelled, start_run, store_drafted_architecture,
};
pub use library::{delete, duplicate, search_for_user, version};
mod credits;
pub use credits::{set_credits, Credits};
mod budget;
pub use budget::{default_budget, set_budget};

#[derive(Clone, Debug, Queryable, Selectable, Serialize)]
#[diesel(table_name = books)]
pub struct Book {
    pub id: BookId,
    pub user_id: UserId,
    pub title: String,
    pub idea: String,
    pub genre: String,
    pub audience: String,
    pub tone: String,
    pub language: Language,
    pub target_pages: i32,
    pub status: BookStatus,
    pub status_reason: Option<String>,
    pub architecture: Option<String>,
    pub is_demo: bool,
    pub control: String,
    pub chunks_total: i32,
    pub chunks_done: i32,
    pub words: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cost_usd: f64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub completed_at: Option<NaiveDateTime>,
    /// Printed as the author instead of the user's display name; empty for none.
    pub pen_name: String,
    pub dedication: String,
    /// Replaces the default copyright line; empty for the default.
    pub copyright_line: String,
    /// The most the book may cost in provider calls (USD); `None`: no limit.
    pub budget_usd: Option<f64>,
    /// Input written to / read from the provider's prompt cache (apart from `input_tokens`).
    pub cache_creation_tokens: i64,
    pub cache_read_tokens: i64,
    /// Whether each chapter is checked against the book's facts after it is written.
    pub continuity_audit: bool,
}

impl Book {
    pub fn status(&self) -> BookStatus {
        self.status
    }

    /// The stored architecture, if any (a row that fails to parse reads as none: it was never valid).
    pub fn architecture(&self) -> Option<Architecture> {
        self.architecture
            .as_deref()
            .and_then(|a| serde_json::from_str(a).ok())
    }

    /// Whole percent of chunks written (0 before planning).
    pub fn percent(&self) -> i64 {
        if self.chunks_total <= 0 {
            return if self.status() == BookStatus::Completed {
                100
            } else {
                0
            };
        }
        (i64::from(self.chunks_done) * 100 / i64::from(self.chunks_total)).clamp(0, 100)
    }

    pub fn display_title(&self) -> &str {
        if self.title.trim().is_empty() {
            &self.idea
        } else {
            &self.title
        }
    }
}

/// The wizard's answers, already validated by the caller (`books::validate_new_book`).
#[derive(Clone, Debug)]
pub struct NewBook {
    pub idea: String,
    pub genre: String,
    pub audience: String,
    pub tone: String,
    pub language: Language,
    pub target_pages: i32,
}

/// Jobs are enqueued with the queue's own function, which keeps a duplicate (an active job with the
/// same key) from aborting the surrounding transaction.
pub(super) use jobs::enqueue;

/// Why a state change was refused.
#[derive(Debug, thiserror::Error)]
pub enum BookChangeError {
    #[error("not found")]
    NotFound,
    #[error("cannot {action} a book that is {}", status.as_str())]
    WrongStatus {
        action: &'static str,
        status: BookStatus,
    },
    #[error("{reason}")]
    Invalid { field: &'static str, reason: String },
    #[error(transparent)]
    Architecture(#[from] buko_actors::model::ArchitectureError),
    #[error(transparent)]
    Db(#[from] DbError),
}

fn unserializable(e: serde_json::Error) -> BookChangeError {
    BookChangeError::Db(DbError::from(diesel::result::Error::SerializationError(
        Box::new(e),
    )))
}

impl From<diesel::result::Error> for BookChangeError {
    fn from(e: diesel::result::Error) -> Self {
        BookChangeError::Db(e.into())
    }
}

/// Creates the book (`architecture_pending`) and its architecture job in one transaction.
pub fn create(conn: &mut DbConn, user_id: &str, new: &NewBook) -> Result<Book, DbError> {
    crate::db::write_tx(conn, |conn| {
        let id = new_id();
        let t = now();
        diesel::insert_into(books::table)
            .values((
                books::id.eq(&id),
                books::user_id.eq(user_id),
                books::title.eq(""),
                books::idea.eq(&new.idea),
                books::genre.eq(&new.genre),
                books::audience.eq(&new.audience),
                books::tone.eq(&new.tone),
                books::language.eq(new.language.code()),
                books::target_pages.eq(new.target_pages),
                books::status.eq(BookStatus::ArchitecturePending.as_str()),
                books::created_at.eq(t),
                books::updated_at.eq(t),
            ))
            .execute(conn)?;
        enqueue(
            conn,
            NewJob::now(JobPayload::Architecture {
                book_id: id.clone(),
            }),
        )?;
        get(conn, &id)
    })
}

pub fn get(conn: &mut DbConn, id: &str) -> Result<Book, DbError> {
    Ok(books::table
        .find(id)
        .select(Book::as_select())
        .first(conn)?)
}

/// The book if `user_id` may see it (its owner, or an admin); another user's book is "not found".
pub fn find_for(
    conn: &mut DbConn,
    id: &str,
    user_id: &str,
    is_admin: bool,
) -> Result<Option<Book>, DbError> {
    let book: Option<Book> = books::table
        .find(id)
        .select(Book::as_select())
        .first(conn)
        .optional()?;
    Ok(book.filter(|b| is_admin || b.user_id == user_id))
}

pub fn list_for_user(conn: &mut DbConn, user_id: &str) -> Result<Vec<Book>, DbError> {
    Ok(books::table
        .filter(books::user_id.eq(user_id))
        .order(books::created_at.desc())
        .select(Book::as_select())
        .load(conn)?)
}

/// Sets status + control only if the book is in one of `from`; returns whether it changed.
pub(super) fn transition(
    conn: &mut DbConn,
    id: &str,
    from: &[BookStatus],
    to: BookStatus,
    control: &str,
) -> Result<bool, diesel::result::Error> {
    let from: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
    let n = diesel::update(
        books::table
            .filter(books::id.eq(id))
            .filter(books::status.eq_any(from)),
    )
    .set((
        books::status.eq(to.as_str()),
        books::status_reason.eq(None::<String>),
        books::control.eq(control),
        books::updated_at.eq(now()),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

pub(super) fn refused(conn: &mut DbConn, id: &str, action: &'static str) -> BookChangeError {
    match get(conn, id) {
        Ok(b) => BookChangeError::WrongStatus {
            action,
            status: b.status(),
        },
        Err(e) if e.is_not_found() => BookChangeError::NotFound,
        Err(e) => e.into(),
    }
}

/// Replaces the architecture (validated) while the book is `architecture_ready`.
pub fn update_architecture(
    conn: &mut DbConn,
    id: &str,
    mut architecture: Architecture,
) -> Result<Architecture, BookChangeError> {
    architecture.validate()?;
    let json = serde_json::to_string(&architecture).map_err(unserializable)?;
    let n = diesel::update(
        books::table
            .filter(books::id.eq(id))
            .filter(books::status.eq(BookStatus::ArchitectureReady.as_str())),
    )
    .set((
        books::architecture.eq(Some(json)),
        books::title.eq(&architecture.title),
        books::language.eq(architecture.language.code()),
        books::updated_at.eq(now()),
    ))
    .execute(conn)?;
    if n == 0 {
        return Err(refused(conn, id, "edit the architecture of"));
    }
    Ok(architecture)
}

/// Approves the architecture: one `chapters` row per chapter, status `queued`, a Book job — together.
/// The cost limit is `budget_usd`, else the one set before, else the author's plan default.
pub fn approve(
    conn: &mut DbConn,
    id: &str,
    budget_usd: Option<f64>,
) -> Result<(), BookChangeError> {
    crate::db::write_tx(conn, |conn| {
        let book = get(conn, id).map_err(|e| {
            if e.is_not_found() {
                BookChangeError::NotFound
            } else {
                e.into()
            }
        })?;
        let wrong = BookChangeError::WrongStatus {
            action: "approve",
            status: book.status(),
        };
        if book.status() != BookStatus::ArchitectureReady {
            return Err(wrong);
        }
        let mut arch = book.architecture().ok_or(wrong)?;
        arch.validate()?;
        if !transition(
            conn,
            id,
            &[BookStatus::ArchitectureReady],
            BookStatus::Queued,
            "run",
        )? {
            return Err(refused(conn, id, "approve"));
        }
        let budget = match budget_usd.or(book.budget_usd) {
            Some(b) => b,
            None => default_budget(conn, &book.user_id)?,
        };
        set_budget(conn, id, budget)?;
        diesel::delete(chapters::table.filter(chapters::book_id.eq(id))).execute(conn)?;
        let t = now();
        for (i, ch) in arch.chapters.iter().enumerate() {
            let key_points = serde_json::to_string(&ch.key_points).map_err(unserializable)?;
            diesel::insert_into(chapters::table)
                .values((
                    chapters::id.eq(new_id()),
                    chapters::book_id.eq(id),
                    chapters::position.eq(i as i32),
                    chapters::title.eq(&ch.title),
                    chapters::summary.eq(&ch.summary),
                    chapters::key_points.eq(key_points),
                    chapters::target_words.eq(ch.target_words as i32),
                    chapters::status.eq(ChapterStatus::Pending),
                    chapters::words.eq(0),
                    chapters::created_at.eq(t),
                    chapters::updated_at.eq(t),
                ))
                .execute(conn)?;
        }
        enqueue(
            conn,
            NewJob::now(JobPayload::Book {
                book_id: id.to_string(),
                regenerate_chapter: None,
                instruction: None,
                refresh_following: false,
            }),
        )?;
        Ok(())
    })
}

/// What the completion e-mail needs: (title, language code, the author's e-mail); `None` when the book
/// or its author is gone.
pub fn completion_notice(
    conn: &mut DbConn,
    id: &str,
) -> Result<Option<(String, String, String)>, DbError> {
    Ok(books::table
        .inner_join(users::table.on(users::id.eq(books::user_id)))
        .filter(books::id.eq(id))
        .select((books::title, books::language, users::email))
        .first::<(String, String, String)>(conn)
        .optional()?)
}

/// (chunks done, chunks total, words) of a book being written (`buko generate`'s progress bar).
pub fn progress(conn: &mut DbConn, id: &str) -> Result<(i32, i32, i64), DbError> {
    Ok(books::table
        .find(id)
        .select((books::chunks_done, books::chunks_total, books::words))
        .first::<(i32, i32, i64)>(conn)?)
}
