//! Books as the author drives them: create from the wizard, edit the architecture, approve, and the
//! controls (pause / resume / cancel / regenerate). Every state change is a conditional UPDATE on the
//! current status (so two racing requests cannot both win) and commits together with the job it
//! enqueues. Progress columns (`chunks_*`, `words`, tokens, cost) are written by the engine's BookStore
//! adapter, never here.

use buko_actors::model::{Architecture, BookStatus, Language};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::{books, chapters};
use crate::db::{new_id, now, DbConn, DbError};
use crate::queue::jobs::{self, Enqueued, JobPayload, NewJob};

#[derive(Clone, Debug, Queryable, Selectable, Serialize)]
#[diesel(table_name = books)]
pub struct Book {
    pub id: String,
    pub user_id: String,
    pub title: String,
    pub idea: String,
    pub genre: String,
    pub audience: String,
    pub tone: String,
    pub language: String,
    pub target_pages: i32,
    pub status: String,
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
}

impl Book {
    pub fn status(&self) -> BookStatus {
        BookStatus::parse(&self.status).unwrap_or(BookStatus::Draft)
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

/// The wizard's answers, already validated by the caller ([`NewBook::validate`]).
#[derive(Clone, Debug)]
pub struct NewBook {
    pub idea: String,
    pub genre: String,
    pub audience: String,
    pub tone: String,
    pub language: Language,
    pub target_pages: i32,
}

pub const MAX_IDEA_CHARS: usize = 5_000;
pub const MAX_FIELD_CHARS: usize = 200;
pub const PAGES_RANGE: std::ops::RangeInclusive<i32> = 10..=1000;

impl NewBook {
    /// Parses and checks the wizard's answers; the message is shown to the author / API client.
    pub fn validate(
        idea: &str,
        genre: &str,
        audience: &str,
        tone: &str,
        language: &str,
        target_pages: Option<i64>,
    ) -> Result<NewBook, String> {
        let idea = idea.trim();
        if idea.is_empty() {
            return Err("the idea is empty".into());
        }
        if idea.chars().count() > MAX_IDEA_CHARS {
            return Err(format!(
                "the idea is longer than {MAX_IDEA_CHARS} characters"
            ));
        }
        for (name, v) in [("genre", genre), ("audience", audience), ("tone", tone)] {
            if v.trim().chars().count() > MAX_FIELD_CHARS {
                return Err(format!(
                    "the {name} is longer than {MAX_FIELD_CHARS} characters"
                ));
            }
        }
        let language = if language.trim().is_empty() {
            Language::En
        } else {
            Language::parse(language)
                .ok_or_else(|| format!("unknown language {language:?}; use en or es"))?
        };
        let target_pages = target_pages.unwrap_or(100);
        let target_pages = i32::try_from(target_pages)
            .ok()
            .filter(|p| PAGES_RANGE.contains(p))
            .ok_or_else(|| "target_pages must be between 10 and 1000".to_string())?;
        Ok(NewBook {
            idea: idea.to_string(),
            genre: genre.trim().to_string(),
            audience: audience.trim().to_string(),
            tone: tone.trim().to_string(),
            language,
            target_pages,
        })
    }
}

/// Enqueues inside a savepoint. On PostgreSQL a unique violation (an active job with the same key)
/// aborts the whole surrounding transaction, whose COMMIT then silently rolls back the book's state
/// change; rolling back just the savepoint keeps the transaction usable on both backends.
fn enqueue(conn: &mut DbConn, job: NewJob) -> Result<Enqueued, DbError> {
    let mut outcome = Enqueued::AlreadyActive;
    let res = conn.transaction::<(), diesel::result::Error, _>(|c| match jobs::enqueue(c, job) {
        Ok(Enqueued::Created(id)) => {
            outcome = Enqueued::Created(id);
            Ok(())
        }
        Ok(Enqueued::AlreadyActive) => Err(diesel::result::Error::RollbackTransaction),
        Err(DbError::Query(e)) => Err(e),
        Err(e) => Err(diesel::result::Error::QueryBuilderError(
            e.to_string().into(),
        )),
    });
    match res {
        Ok(()) | Err(diesel::result::Error::RollbackTransaction) => Ok(outcome),
        Err(e) => Err(e.into()),
    }
}

/// Why a state change was refused.
#[derive(Debug, thiserror::Error)]
pub enum BookChangeError {
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for BookChangeError {
    fn from(e: diesel::result::Error) -> Self {
        BookChangeError::Db(e.into())
    }
}

/// Creates the book (`architecture_pending`) and its architecture job in one transaction.
pub fn create(conn: &mut DbConn, user_id: &str, new: &NewBook) -> Result<Book, DbError> {
    conn.transaction(|conn| {
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
fn transition(
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

fn refused(conn: &mut DbConn, id: &str, action: &str) -> BookChangeError {
    match get(conn, id) {
        Ok(b) => BookChangeError::Conflict(format!("cannot {action} a book that is {}", b.status)),
        Err(e) if e.is_not_found() => BookChangeError::NotFound,
        Err(e) => e.into(),
    }
}

/// Stores a simulated or real architecture result and marks the book ready. The architecture job
/// handler (the lead's) owns this in production; tests use it to stand in for the LLM.
pub fn set_architecture_ready(
    conn: &mut DbConn,
    id: &str,
    architecture: &Architecture,
) -> Result<(), DbError> {
    let json = serde_json::to_string(architecture)
        .map_err(|e| DbError::Query(diesel::result::Error::SerializationError(Box::new(e))))?;
    diesel::update(books::table.find(id))
        .set((
            books::architecture.eq(Some(json)),
            books::title.eq(&architecture.title),
            books::status.eq(BookStatus::ArchitectureReady.as_str()),
            books::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Replaces the architecture (validated) while the book is `architecture_ready`.
pub fn update_architecture(
    conn: &mut DbConn,
    id: &str,
    mut architecture: Architecture,
) -> Result<Architecture, BookChangeError> {
    architecture
        .validate()
        .map_err(|e| BookChangeError::Invalid(e.to_string()))?;
    let json = serde_json::to_string(&architecture)
        .map_err(|e| BookChangeError::Invalid(e.to_string()))?;
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
pub fn approve(conn: &mut DbConn, id: &str) -> Result<(), BookChangeError> {
    conn.transaction(|conn| {
        let book = get(conn, id).map_err(|e| {
            if e.is_not_found() {
                BookChangeError::NotFound
            } else {
                e.into()
            }
        })?;
        if book.status() != BookStatus::ArchitectureReady {
            return Err(BookChangeError::Conflict(format!(
                "cannot approve a book that is {}",
                book.status
            )));
        }
        let mut arch = book
            .architecture()
            .ok_or_else(|| BookChangeError::Conflict("the book has no architecture yet".into()))?;
        arch.validate()
            .map_err(|e| BookChangeError::Invalid(e.to_string()))?;
        if !transition(
            conn,
            id,
            &[BookStatus::ArchitectureReady],
            BookStatus::Queued,
            "run",
        )? {
            return Err(refused(conn, id, "approve"));
        }
        diesel::delete(chapters::table.filter(chapters::book_id.eq(id))).execute(conn)?;
        let t = now();
        for (i, ch) in arch.chapters.iter().enumerate() {
            let key_points = serde_json::to_string(&ch.key_points)
                .map_err(|e| BookChangeError::Invalid(e.to_string()))?;
            diesel::insert_into(chapters::table)
                .values((
                    chapters::id.eq(new_id()),
                    chapters::book_id.eq(id),
                    chapters::position.eq(i as i32),
                    chapters::title.eq(&ch.title),
                    chapters::summary.eq(&ch.summary),
                    chapters::key_points.eq(key_points),
                    chapters::target_words.eq(ch.target_words as i32),
                    chapters::status.eq("pending"),
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
            }),
        )?;
        Ok(())
    })
}

/// The author's controls over a book in progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    Pause,
    Resume,
    Cancel,
}

impl Control {
    pub fn parse(s: &str) -> Option<Control> {
        match s {
            "pause" => Some(Control::Pause),
            "resume" => Some(Control::Resume),
            "cancel" => Some(Control::Cancel),
            _ => None,
        }
    }
}

/// Applies a control. Pause: queued/generating → paused. Resume: paused/failed → queued with a new Book
/// job (an already active job simply continues, reading `control = run`). Cancel: anything not finished.
pub fn control(conn: &mut DbConn, id: &str, c: Control) -> Result<BookStatus, BookChangeError> {
    use BookStatus::*;
    conn.transaction(|conn| {
        let (from, to, flag, name): (&[BookStatus], _, _, _) = match c {
            Control::Pause => (&[Queued, Generating], Paused, "pause", "pause"),
            Control::Resume => (&[Paused, Failed], Queued, "run", "resume"),
            Control::Cancel => (
                &[
                    Draft,
                    ArchitecturePending,
                    ArchitectureReady,
                    Queued,
                    Generating,
                    Paused,
                ],
                Cancelled,
                "cancel",
                "cancel",
            ),
        };
        if !transition(conn, id, from, to, flag)? {
            return Err(refused(conn, id, name));
        }
        if c == Control::Resume {
            enqueue(
                conn,
                NewJob::now(JobPayload::Book {
                    book_id: id.to_string(),
                    regenerate_chapter: None,
                }),
            )?;
        }
        Ok(to)
    })
}

/// Rewrites chapter `n` (0-based) of a completed, paused or failed book.
pub fn regenerate_chapter(conn: &mut DbConn, id: &str, n: usize) -> Result<(), BookChangeError> {
    use BookStatus::*;
    conn.transaction(|conn| {
        let count: i64 = chapters::table
            .filter(chapters::book_id.eq(id))
            .count()
            .get_result(conn)?;
        if n as i64 >= count {
            return Err(BookChangeError::Invalid(format!(
                "the book has no chapter {n} (it has {count})"
            )));
        }
        if !transition(conn, id, &[Completed, Paused, Failed], Queued, "run")? {
            return Err(refused(conn, id, "regenerate a chapter of"));
        }
        enqueue(
            conn,
            NewJob::now(JobPayload::Book {
                book_id: id.to_string(),
                regenerate_chapter: Some(n),
            }),
        )?;
        Ok(())
    })
}
