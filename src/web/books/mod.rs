//! The author's book pages: library and idea wizard ([`library`]), architecture review ([`review`]),
//! live view and controls ([`live`]), reader and downloads ([`reader`], [`export`]). Every handler loads
//! the book through [`owned_book`], so another user's book is a 404 everywhere.

pub mod library;
pub mod live;
pub mod reader;
pub mod review;

use actix_web::web;

use crate::db::{self, models::User, repo, repo::books::Book, repo::books::BookChangeError};
use crate::error::AppError;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.configure(library::routes)
        .configure(review::routes)
        .configure(live::routes)
        .configure(reader::routes);
}

/// The book if this user may see it (owner or admin), else `404` — never a 403 that would confirm the id.
pub async fn owned_book(state: &AppState, user: &User, id: &str) -> Result<Book, AppError> {
    let (id, uid, admin) = (id.to_string(), user.id.clone(), user.is_admin());
    db::run(&state.db, move |c| {
        repo::books::find_for(c, &id, &uid, admin)
    })
    .await?
    .ok_or(AppError::NotFound)
}

impl From<BookChangeError> for AppError {
    fn from(e: BookChangeError) -> Self {
        match e {
            BookChangeError::NotFound => AppError::NotFound,
            BookChangeError::Conflict(m) => AppError::Conflict(m),
            BookChangeError::Invalid(m) => AppError::Validation(m),
            BookChangeError::Db(e) => e.into(),
        }
    }
}

/// Default price used for the estimate until the provider price table is connected: USD per million
/// output tokens of a Claude Sonnet–class model (input tokens are bounded per chunk and ignored here).
pub const DEFAULT_USD_PER_MTOK: f64 = 15.0;

/// Rough cost of writing `words`: tokens ≈ words / 0.75 (English and Spanish prose average) × price.
pub fn estimate_cost_usd(words: u64, usd_per_mtok: f64) -> (u64, f64) {
    let tokens = (words as f64 / 0.75).ceil() as u64;
    (tokens, tokens as f64 * usd_per_mtok / 1_000_000.0)
}

impl Book {
    /// The i18n key of the book's status label.
    pub fn status_key(&self) -> &'static str {
        match self.status() {
            buko_actors::BookStatus::Draft => "status.draft",
            buko_actors::BookStatus::ArchitecturePending => "status.architecture_pending",
            buko_actors::BookStatus::ArchitectureReady => "status.architecture_ready",
            buko_actors::BookStatus::Queued => "status.queued",
            buko_actors::BookStatus::Generating => "status.generating",
            buko_actors::BookStatus::Paused => "status.paused",
            buko_actors::BookStatus::Completed => "status.completed",
            buko_actors::BookStatus::Failed => "status.failed",
            buko_actors::BookStatus::Cancelled => "status.cancelled",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimate_uses_words_over_three_quarters() {
        let (tokens, usd) = estimate_cost_usd(30_000, 15.0);
        assert_eq!(tokens, 40_000);
        assert!((usd - 0.6).abs() < 1e-9);
    }
}
