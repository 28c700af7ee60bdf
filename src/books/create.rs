//! Creating a book from the wizard's answers (the pages' form, `POST /api/v1/books`, `buko generate`):
//! validation, the plan's architecture quota, then the book row and its architecture job together.

use buko_actors::model::Language;

use super::{BookError, BookService, Problem};
use crate::db::models::User;
use crate::db::repo::books::{Book, NewBook};
use crate::db::{self, repo};
use crate::limits::quota::Quota;

pub const MAX_IDEA_CHARS: usize = 5_000;
pub const MAX_FIELD_CHARS: usize = 200;
pub const PAGES_RANGE: std::ops::RangeInclusive<i32> = 10..=1000;
/// Length when the author gives none.
pub const DEFAULT_PAGES: i64 = 100;

/// The wizard's answers as a door received them (trimmed and checked by [`validate_new_book`]).
#[derive(Clone, Debug, Default)]
pub struct NewBookInput {
    pub idea: String,
    pub genre: String,
    pub audience: String,
    pub tone: String,
    /// `en` / `es`; empty means English.
    pub language: String,
    pub target_pages: Option<i64>,
}

/// Parses and checks the wizard's answers; the reason is shown to the author / API client.
pub fn validate_new_book(input: &NewBookInput) -> Result<NewBook, BookError> {
    let idea = input.idea.trim();
    if idea.is_empty() {
        return Err(BookError::problem(
            "idea",
            Problem::Empty,
            "the idea is empty",
        ));
    }
    if idea.chars().count() > MAX_IDEA_CHARS {
        return Err(BookError::problem(
            "idea",
            Problem::TooLong {
                max: MAX_IDEA_CHARS,
            },
            format!("the idea is longer than {MAX_IDEA_CHARS} characters"),
        ));
    }
    for (name, v) in [
        ("genre", &input.genre),
        ("audience", &input.audience),
        ("tone", &input.tone),
    ] {
        if v.trim().chars().count() > MAX_FIELD_CHARS {
            return Err(BookError::problem(
                name,
                Problem::TooLong {
                    max: MAX_FIELD_CHARS,
                },
                format!("the {name} is longer than {MAX_FIELD_CHARS} characters"),
            ));
        }
    }
    let language = if input.language.trim().is_empty() {
        Language::En
    } else {
        Language::parse(&input.language).ok_or_else(|| {
            BookError::problem(
                "language",
                Problem::UnknownLanguage,
                format!("unknown language {:?}; use en or es", input.language),
            )
        })?
    };
    let target_pages = i32::try_from(input.target_pages.unwrap_or(DEFAULT_PAGES))
        .ok()
        .filter(|p| PAGES_RANGE.contains(p))
        .ok_or_else(|| {
            BookError::problem(
                "target_pages",
                Problem::Range {
                    min: i64::from(*PAGES_RANGE.start()),
                    max: i64::from(*PAGES_RANGE.end()),
                },
                format!(
                    "a book can have {} to {} pages",
                    PAGES_RANGE.start(),
                    PAGES_RANGE.end()
                ),
            )
        })?;
    Ok(NewBook {
        idea: idea.to_string(),
        genre: input.genre.trim().to_string(),
        audience: input.audience.trim().to_string(),
        tone: input.tone.trim().to_string(),
        language,
        target_pages,
    })
}

impl BookService {
    /// Creates the book (`architecture_pending`) and queues its architecture: input first (a bad form
    /// costs no quota), then one use of the architecture quota.
    pub async fn create(&self, user: &User, input: &NewBookInput) -> Result<Book, BookError> {
        let new = validate_new_book(input)?;
        let used = self.take_quota(user, Quota::Architecture, None).await?;
        let user_id = user.id.clone();
        let book = db::run(&self.db, move |c| repo::books::create(c, &user_id, &new)).await?;
        // Tied to the book so a provider failure can give it back.
        crate::limits::quota::attach(&self.db, used, book.id.to_string()).await?;
        Ok(book)
    }
}
