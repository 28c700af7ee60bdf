//! The book use cases, one function each, called by every door: the JSON API (`web::api_v1::books`),
//! the pages (`web::books`), the job runner and `buko generate`. A rule about books (who may act, in
//! which status, what it costs in quota) lives here once; the doors only translate input and output.
//! Storage is reached through `db::repo`; HTTP is never seen here.
//!
//! A book's cover (editor state, design, art uploads and generations) is [`covers`]; the `cover` queue's
//! job is [`cover_job`].
//!
//! Changing a written chapter (hand edit, restore, history) is [`versions`]; regenerating it is a
//! control in [`lifecycle`]. Both keep the replaced text as a version.

mod architecture;
mod budget;
mod cover_job;
mod covers;
mod create;
mod credits;
mod error;
mod estimate;
mod export;
mod library;
mod lifecycle;
mod memory;
mod read;
mod signal;
mod versions;

use std::path::PathBuf;
use std::sync::Arc;

pub use budget::{validate_budget, MAX_BUDGET_USD};
pub use cover_job::CoverArtHandler;
pub use covers::{
    apply_input, default_design, default_prompt, validate_prompt, ArtView, CoverInput, CoverView,
    MAX_COVER_TEXT_CHARS, MAX_PROMPT_CHARS,
};
pub use create::{
    validate_new_book, NewBookInput, DEFAULT_PAGES, MAX_FIELD_CHARS, MAX_IDEA_CHARS, PAGES_RANGE,
};
pub use credits::{validate_credits, validate_display_name};
pub use error::{BookError, Problem};
pub use estimate::{estimate, CostEstimate, EstimateCache};
pub use export::Export;
pub use library::{Download, MAX_QUERY_CHARS};
pub use lifecycle::{validate_regenerate, Control, RegenerateRequest, MAX_INSTRUCTION_CHARS};
pub use memory::{AuditReport, MAX_LEDGER_JSON};
pub use signal::{EngineSignal, Stop};
pub use versions::{validate_chapter_text, ChapterHistory, ChapterRevision, MAX_CHAPTER_CHARS};

use crate::db::ids::BookId;
use crate::db::models::User;
use crate::db::repo::books::Book;
use crate::db::{self, repo, DbPool};
use crate::limits::quota::{self, Quota};
use crate::limits::RateLimiter;

/// What the cost estimate prices a book with (see `estimate`).
#[derive(Clone, Debug)]
pub struct CostModel {
    /// The model writing the chunks, priced by `llm::pricing`.
    pub model: String,
    /// The model writing the summaries.
    pub summary_model: String,
    /// The offline writer: costs nothing.
    pub free: bool,
    /// The provider's output limit (the engine's chunk plan depends on it).
    pub max_output_tokens: u32,
    /// Chunk prompts' stable prefix is cached (Anthropic with `BUKO_PROMPT_CACHE` on).
    pub prompt_cache: bool,
}

impl CostModel {
    /// The cost model of the provider the engine writes with.
    pub fn of(llm: &dyn buko_actors::LlmPort, prompt_cache: bool) -> CostModel {
        use buko_actors::CallPurpose;
        CostModel {
            model: llm.model_for(CallPurpose::Chunk).to_string(),
            summary_model: llm.model_for(CallPurpose::Summary).to_string(),
            free: llm.is_demo(),
            max_output_tokens: llm.max_output_tokens(),
            prompt_cache: prompt_cache && llm.provider() == "anthropic",
        }
    }
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
    /// Cost estimates already made (pure and costly: see [`estimate::EstimateCache`]).
    pub estimates: Arc<estimate::EstimateCache>,
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
            estimates: Arc::default(),
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

    /// Uses left of a quota now and, when none is, how long until one is (a page disables the button
    /// that would spend it and says when it comes back).
    pub async fn quota_availability(
        &self,
        user: &User,
        q: Quota,
    ) -> Result<quota::Availability, BookError> {
        Ok(quota::availability(&self.db, user, q).await?)
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
                e @ quota::Refused::TooLong { max_pages } => BookError::problem(
                    "target_pages",
                    Problem::PlanPages { max_pages },
                    e.to_string(),
                ),
                quota::Refused::Storage(e) => BookError::Storage(e),
            })
    }
}
