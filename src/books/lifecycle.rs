//! Approval and the controls over a book being written: approve (book quota), pause, resume, cancel,
//! regenerate a chapter. Each checks the owner here and commits the status change with its job in
//! `db::repo::books` (a conditional update, so racing requests cannot both win).

use buko_actors::model::BookStatus;

use super::{BookError, BookService, Problem, Stop};
use crate::db::ids::BookId;
use crate::db::models::User;
use crate::db::{self, repo};
use crate::limits::quota::Quota;

pub use crate::db::repo::books::{Control, RegenerateRequest};

/// Longest instruction for a rewrite (what the prompt quotes).
pub const MAX_INSTRUCTION_CHARS: usize = buko_actors::prompt::INSTRUCTION_CHARS;

impl BookService {
    /// Approves the architecture: one use of the book quota, chapters created, a book job queued.
    /// Status before quota: a book that cannot be approved costs nothing. `budget_usd` is the book's
    /// cost limit (default: the one set before, else the plan's).
    pub async fn approve(
        &self,
        user: &User,
        id: &BookId,
        budget_usd: Option<f64>,
    ) -> Result<BookStatus, BookError> {
        let budget = budget_usd.map(super::validate_budget).transpose()?;
        let book = self.get(user, id).await?;
        if book.status() != BookStatus::ArchitectureReady {
            return Err(BookError::WrongStatus {
                action: "approve",
                status: book.status(),
            });
        }
        self.take_quota(user, Quota::Book, Some(&book.id)).await?;
        db::run(&self.db, move |c| {
            Ok(repo::books::approve(c, &book.id, budget))
        })
        .await??;
        Ok(BookStatus::Queued)
    }

    /// Pause (queued / generating), resume (paused / failed; queues the book again) or cancel
    /// (anything not finished). Returns the new status.
    pub async fn control(
        &self,
        user: &User,
        id: &BookId,
        c: Control,
    ) -> Result<BookStatus, BookError> {
        let book = self.get(user, id).await?;
        let book_id = book.id.clone();
        let (status, event) = db::run(&self.db, move |conn| {
            Ok(repo::books::control(conn, &book_id, c))
        })
        .await??;
        if let (Some(event), Some(signal)) = (event, &self.signal) {
            signal.publish(event);
        }
        // The flag is committed: now stop the stream in progress, so nothing is written or paid for
        // after the author said stop. The engine publishes the status when the stop has taken effect.
        let stop = match c {
            Control::Pause => Some(Stop::Pause),
            Control::Cancel => Some(Stop::Cancel),
            Control::Resume => None,
        };
        if let (Some(stop), Some(signal)) = (stop, &self.signal) {
            signal.stop(&book.id, stop).await;
        }
        Ok(status)
    }

    /// Rewrites a chapter of a completed, paused or failed book, optionally steered by the author's
    /// instruction and optionally refreshing every following chapter (queued as ordinary chunks).
    /// The texts it replaces are kept as versions. No quota: the book was paid for when approved.
    pub async fn regenerate(
        &self,
        user: &User,
        id: &BookId,
        req: RegenerateRequest,
    ) -> Result<BookStatus, BookError> {
        let book = self.get(user, id).await?;
        let req = validate_regenerate(req)?;
        let by = user.id.clone();
        db::run(&self.db, move |c| {
            Ok(repo::books::regenerate_chapter(c, &book.id, &req, &by))
        })
        .await??;
        Ok(BookStatus::Queued)
    }
}

/// Trims the instruction (blank means none) and bounds it.
pub fn validate_regenerate(mut req: RegenerateRequest) -> Result<RegenerateRequest, BookError> {
    req.instruction = req
        .instruction
        .map(|i| i.trim().to_string())
        .filter(|i| !i.is_empty());
    if let Some(i) = &req.instruction {
        let n = i.chars().count();
        if n > MAX_INSTRUCTION_CHARS {
            return Err(BookError::problem(
                "instruction",
                Problem::TooLong {
                    max: MAX_INSTRUCTION_CHARS,
                },
                format!(
                    "the instruction is too long ({n} characters; at most {MAX_INSTRUCTION_CHARS})"
                ),
            ));
        }
    }
    Ok(req)
}
