//! `POST /books/{id}/budget`: the author sets the book's cost limit from the live page (e.g. after
//! the book paused with `budget_reached`, before resuming). A thin door over `BookService::set_budget`.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::books::BookError;
use crate::db::ids::BookId;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::render::see_other;
use crate::web::session::{CsrfForm, CsrfProtected, CurrentUser};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/books/{id}/budget", web::post().to(set_budget));
}

#[derive(Deserialize)]
pub struct BudgetForm {
    csrf_token: String,
    #[serde(default)]
    budget_usd: String,
}

impl CsrfProtected for BudgetForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// A form's amount ("12", "12.50", "12,50"); blank is `None`.
pub fn parse_amount(s: &str) -> Result<Option<f64>, BookError> {
    let s = s.trim().trim_start_matches('$').replace(',', ".");
    if s.is_empty() {
        return Ok(None);
    }
    s.parse::<f64>()
        .map(Some)
        .map_err(|_| BookError::invalid("budget_usd", "the budget must be an amount in USD"))
}

async fn set_budget(
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<BookId>,
    CsrfForm(form): CsrfForm<BudgetForm>,
) -> Result<HttpResponse, AppError> {
    let amount = parse_amount(&form.budget_usd)?
        .ok_or_else(|| BookError::invalid("budget_usd", "the budget must be an amount in USD"))?;
    state.books.set_budget(&user, &id, amount).await?;
    Ok(see_other(&format!("/books/{id}/live")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_from_forms() {
        assert_eq!(parse_amount(" 12,50 ").ok(), Some(Some(12.5)));
        assert_eq!(parse_amount("$3").ok(), Some(Some(3.0)));
        assert_eq!(parse_amount("").ok(), Some(None));
        assert!(parse_amount("lots").is_err());
    }
}
