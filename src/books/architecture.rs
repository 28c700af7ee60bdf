//! The architecture between drafting and approval: the author's edits (`save_architecture`) and the
//! cost estimate shown before approving.

use buko_actors::model::{Architecture, BookStatus};

use super::{BookError, BookService};
use crate::db::ids::BookId;
use crate::db::models::User;
use crate::db::repo::books::Book;
use crate::db::{self, repo};

/// What writing an architecture's words should cost.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CostEstimate {
    pub output_tokens: u64,
    pub usd: f64,
}

impl BookService {
    /// Replaces the architecture while the book is `architecture_ready`. The order of checks is the
    /// same for every door: the book (owner), its status, then the input (`parsed` carries a form's
    /// parse error, so a form for a book that moved on reports the status, not the form).
    pub async fn save_architecture(
        &self,
        user: &User,
        id: &BookId,
        parsed: Result<Architecture, String>,
    ) -> Result<(Book, Architecture), BookError> {
        let book = self.get(user, id).await?;
        if book.status() != BookStatus::ArchitectureReady {
            return Err(BookError::WrongStatus {
                action: "edit the architecture of",
                status: book.status(),
            });
        }
        let arch = parsed.map_err(|reason| BookError::invalid("architecture", reason))?;
        let book_id = book.id.clone();
        let saved = db::run(&self.db, move |c| {
            Ok(repo::books::update_architecture(c, &book_id, arch))
        })
        .await??;
        Ok((book, saved))
    }

    /// Rough cost of writing the architecture: tokens ≈ words / 0.75 (English and Spanish prose
    /// average), priced as output by the provider's price table; the offline writer is free.
    pub fn estimate_cost(&self, arch: Option<&Architecture>) -> CostEstimate {
        let words = arch.map_or(0, Architecture::total_target_words);
        let output_tokens = (words as f64 / 0.75).ceil() as u64;
        let usd = if self.cost_model.free {
            0.0
        } else {
            crate::llm::estimate_cost(&self.cost_model.model, 0, output_tokens)
        };
        CostEstimate { output_tokens, usd }
    }
}
