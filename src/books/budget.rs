//! A book's cost limit (`budget_usd`): offered from the author's plan, set when approving, raised (or
//! lowered) at any time. The engine pauses the book with reason `budget_reached` before a call that
//! could take its spending past the limit; raising it and resuming continues the book.

use super::{BookError, BookService};
use crate::db::ids::BookId;
use crate::db::models::User;
use crate::db::repo::books::Book;
use crate::db::{self, repo};

/// The highest limit accepted (a typo guard, far above any book's cost).
pub const MAX_BUDGET_USD: f64 = 10_000.0;

/// A limit is a positive amount of dollars up to [`MAX_BUDGET_USD`].
pub fn validate_budget(budget_usd: f64) -> Result<f64, BookError> {
    if budget_usd.is_finite() && budget_usd > 0.0 && budget_usd <= MAX_BUDGET_USD {
        Ok((budget_usd * 100.0).round() / 100.0)
    } else {
        Err(BookError::invalid(
            "budget_usd",
            format!("the budget must be more than 0 and at most {MAX_BUDGET_USD} USD"),
        ))
    }
}

impl BookService {
    /// The limit the user's plan offers for a new book.
    pub async fn default_budget(&self, user: &User) -> Result<f64, BookError> {
        let uid = user.id.clone();
        Ok(db::run(&self.db, move |c| repo::books::default_budget(c, &uid)).await?)
    }

    /// The limit shown for `book`: its own, else the plan's default (not approved yet).
    pub async fn budget_of(&self, user: &User, book: &Book) -> Result<f64, BookError> {
        match book.budget_usd {
            Some(b) => Ok(b),
            None => self.default_budget(user).await,
        }
    }

    /// Sets the book's limit. A book paused on `budget_reached` stays paused: the author resumes it.
    pub async fn set_budget(
        &self,
        user: &User,
        id: &BookId,
        budget_usd: f64,
    ) -> Result<Book, BookError> {
        let budget = validate_budget(budget_usd)?;
        let book = self.get(user, id).await?;
        let book_id = book.id.clone();
        if !db::run(&self.db, move |c| {
            repo::books::set_budget(c, &book_id, budget)
        })
        .await?
        {
            return Err(BookError::NotFound);
        }
        self.get(user, id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_are_positive_bounded_cents() {
        assert_eq!(validate_budget(0.054).ok(), Some(0.05));
        assert_eq!(validate_budget(12.0).ok(), Some(12.0));
        assert!(validate_budget(0.0).is_err());
        assert!(validate_budget(-1.0).is_err());
        assert!(validate_budget(f64::NAN).is_err());
        assert!(validate_budget(MAX_BUDGET_USD + 1.0).is_err());
    }
}
