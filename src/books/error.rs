//! `BookError`: why a book use case refused or failed. Each door maps it once: `From<BookError> for
//! AppError` (in `crate::error`) gives the JSON body on `/api` and, through the error-pages middleware,
//! the localized page in the browser; the CLI prints it.

use buko_actors::model::ArchitectureError;
use buko_actors::BookStatus;

use crate::db::repo::books::BookChangeError;
use crate::db::DbError;

#[derive(Debug, thiserror::Error)]
pub enum BookError {
    /// No such book, or another user's (never told apart, so an id is not confirmed).
    #[error("not found")]
    NotFound,
    /// The book's status does not allow the action.
    #[error("cannot {action} a book that is {}", status.as_str())]
    WrongStatus {
        action: &'static str,
        status: BookStatus,
    },
    /// The plan's hourly quota is used up.
    #[error("quota exceeded; retry in {retry_after} s")]
    QuotaExceeded { retry_after: u64 },
    /// Bad input: the field it concerns, a message for the author (English, for the API and the CLI)
    /// and what is wrong, for pages that say it in the author's language.
    #[error("{reason}")]
    Invalid {
        field: &'static str,
        reason: String,
        problem: Problem,
    },
    /// The database failed (logged; the client sees only a 500 or 503).
    #[error(transparent)]
    Storage(#[from] DbError),
    /// Something already running must finish first (one cover generation per book).
    #[error("{0}")]
    Busy(&'static str),
    /// An export could not be rendered.
    #[error("rendering the export failed: {0}")]
    Render(String),
}

/// What is wrong with a field, so each door can say it in its own words and language.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    Empty,
    TooLong {
        max: usize,
    },
    Range {
        min: i64,
        max: i64,
    },
    UnknownLanguage,
    /// A chapter's word target (1-based chapter) that is not a number.
    WordTargetNotANumber {
        chapter: usize,
    },
    /// The plan allows books of up to this many pages.
    PlanPages {
        max_pages: i32,
    },
    Architecture(ArchitectureError),
    /// Said only by `reason` (refusals a page does not expect).
    Other,
}

impl BookError {
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> BookError {
        BookError::problem(field, Problem::Other, reason)
    }

    pub fn problem(field: &'static str, problem: Problem, reason: impl Into<String>) -> BookError {
        BookError::Invalid {
            field,
            reason: reason.into(),
            problem,
        }
    }
}

impl From<BookChangeError> for BookError {
    fn from(e: BookChangeError) -> Self {
        match e {
            BookChangeError::NotFound => BookError::NotFound,
            BookChangeError::WrongStatus { action, status } => {
                BookError::WrongStatus { action, status }
            }
            BookChangeError::Invalid { field, reason } => BookError::invalid(field, reason),
            BookChangeError::Architecture(e) => BookError::problem(
                "architecture",
                Problem::Architecture(e.clone()),
                e.to_string(),
            ),
            BookChangeError::Db(e) => BookError::Storage(e),
        }
    }
}
