//! The book use cases, one function each, called by every door: the JSON API (`web::api_v1::books`),
//! the pages (`web::books`), the job runner and `buko generate`. A rule about books (who may act, in
//! which status, what it costs in quota) lives here once; the doors only translate input and output.
//! Storage is reached through `db::repo`; HTTP is never seen here.
//!
//! Changing a written chapter (hand edit, restore, history) is [`versions`]; regenerating it is a
//! control in [`lifecycle`]. Both keep the replaced text as a version.

mod architecture;
mod create;
mod credits;
mod error;
mod export;
mod library;
mod lifecycle;
mod read;
mod signal;
mod versions;

use std::path::PathBuf;
use std::sync::Arc;

pub use architecture::CostEstimate;
pub use create::{
    validate_new_book, NewBookInput, DEFAULT_PAGES, MAX_FIELD_CHARS, MAX_IDEA_CHARS, PAGES_RANGE,
};
pub use credits::{validate_credits, validate_display_name};
pub use error::BookError;
pub use export::Export;
pub use library::{Download, MAX_QUERY_CHARS};
pub use lifecycle::{validate_regenerate, Control, RegenerateRequest, MAX_INSTRUCTION_CHARS};
pub use signal::{EngineSignal, Stop};
pub use versions::{validate_chapter_text, ChapterHistory, ChapterRevision, MAX_CHAPTER_CHARS};

use crate::db::ids::BookId;
use crate::db::models::User;
use crate::db::repo::books::Book;
use crate::db::{self, repo, DbPool};
use crate::limits::quota::{self, Quota};
use crate::limits::RateLimiter;

/// What the cost estimate prices output tokens with.
#[derive(Clone, Debug)]
pub struct CostModel {
    /// The provider's model id, priced by `llm::estimate_cost`.
    pub model: String,
    /// The offline writer: costs nothing.
    pub free: bool,
}

/// The handles the use cases need (cheap to clone).
#[derive(Clone)]
pub struct BookService {
    pub db: DbPool,
    pub limiter: Arc<dyn RateLimiter>,
    /// Where rendered exports are cached (`<data dir>/exports`).
    pub data_dir: PathBuf,
    pub cost_model: CostModel,
    /// Makes a pause or cancel act at once on the node writing the book (none in tools without an
    /// engine: the flag in the database still stops the run).
    pub signal: Option<Arc<dyn EngineSignal>>,
}

impl BookService {
    pub fn new(
        db: DbPool,
        limiter: Arc<dyn RateLimiter>,
        data_dir: PathBuf,
        cost_model: CostModel,
    ) -> BookService {
        BookService {
            db,
            limiter,
            data_dir,
            cost_model,
            signal: None,
        }
    }

    pub fn with_signal(mut self, signal: Arc<dyn EngineSignal>) -> BookService {
        self.signal = Some(signal);
        self
    }

    /// The book if this user may see it (owner or admin), else `NotFound` — never "forbidden", which
    /// would confirm the id.
    pub async fn get(&self, user: &User, id: &BookId) -> Result<Book, BookError> {
        let (id, uid, admin) = (id.to_string(), user.id.clone(), user.is_admin());
        db::run(&self.db, move |c| {
            repo::books::find_for(c, &id, &uid, admin)
        })
        .await?
        .ok_or(BookError::NotFound)
    }

    /// The user's books, newest first.
    pub async fn list(&self, user: &User) -> Result<Vec<Book>, BookError> {
        let uid = user.id.clone();
        Ok(db::run(&self.db, move |c| repo::books::list_for_user(c, &uid)).await?)
    }

    /// Uses left of a quota now, by the user's plan (shown before the author spends one).
    pub async fn quota_left(&self, user: &User, q: Quota) -> Result<u64, BookError> {
        Ok(quota::remaining(&self.db, user, q).await?)
    }

    /// One use of the plan's quota (tied to the book when it exists; see `limits::quota`).
    async fn take_quota(
        &self,
        user: &User,
        q: Quota,
        book_id: Option<&str>,
    ) -> Result<String, BookError> {
        quota::take(&self.db, user, q, book_id)
            .await
            .map_err(|e| match e {
                quota::Refused::Exceeded { retry_after } => {
                    BookError::QuotaExceeded { retry_after }
                }
                e @ quota::Refused::TooLong { .. } => {
                    BookError::invalid("target_pages", e.to_string())
                }
                quota::Refused::Storage(e) => BookError::Storage(e),
            })
    }
}
