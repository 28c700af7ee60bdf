//! Architecture review (`/books/{id}`): shows the status while the outline is drafted, then lets the
//! author edit everything (title, synopsis, bible; rename, reorder, add, remove chapters; word targets),
//! see a cost estimate and the remaining quota, and approve. Works without JavaScript: chapters are
//! numbered form rows with an order field and a remove box, plus one empty row to add a chapter.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use buko_actors::model::{Architecture, BookStatus, ChapterPlan, Character, Language};
use serde::Deserialize;

use crate::books::{BookError, Problem};
use crate::db::ids::BookId;
use crate::db::{models::User, repo::books::Book};
use crate::error::AppError;
use crate::limits::quota::Quota;
use crate::state::AppState;
use crate::web::render::{html, see_other};
use crate::web::say;
use crate::web::session::{CsrfForm, CsrfProtected, CurrentUser, PageCtx};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/books/{id}", web::get().to(review))
        .route("/books/{id}/architecture", web::post().to(save))
        .route("/books/{id}/approve", web::post().to(approve));
}

#[derive(Template)]
#[template(path = "books/review.html")]
struct ReviewPage {
    page: PageCtx,
    book: Book,
    arch: Option<Architecture>,
    error: Option<String>,
    /// The estimate's figures, with the language's thousands separator.
    est_words: String,
    est_tokens: String,
    est_input: String,
    est_pages: String,
    est_cost: String,
    architectures_left: u64,
    books_left: u64,
    /// The cost limit offered (the book's, else the plan's default).
    budget: String,
    /// Why Approve is disabled (no book left on the plan now), with the wait in words.
    approve_blocked: Option<String>,
}

impl ReviewPage {
    fn lines(items: &[String]) -> String {
        items.join("\n")
    }
    fn characters(arch: &Architecture) -> String {
        arch.bible
            .characters
            .iter()
            .map(|c| {
                format!(
                    "{} | {} | {}",
                    c.name,
                    c.role,
                    c.description.as_deref().unwrap_or("")
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
    fn is_ready(&self) -> bool {
        self.book.status() == BookStatus::ArchitectureReady
    }
    fn is_pending(&self) -> bool {
        self.book.status() == BookStatus::ArchitecturePending
    }
}

async fn render(
    state: &AppState,
    page: PageCtx,
    user: &User,
    book: Book,
    arch: Option<Architecture>,
    error: Option<String>,
) -> Result<HttpResponse, AppError> {
    let estimate = state.books.estimate_cost(&book, arch.as_ref());
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let book_ref = book.clone();
    let books = state.books.quota_availability(user, Quota::Book).await?;
    let approve_blocked = books
        .wait_secs
        .map(|secs| say::with_wait(page.t, "limits.no_books", secs));
    let t = page.t;
    let est_words = say::number(t, arch.as_ref().map_or(0, |a| a.total_target_words()));
    let tpl = ReviewPage {
        approve_blocked,
        page,
        book,
        arch,
        error,
        est_words,
        est_tokens: say::number(t, estimate.output_tokens),
        est_input: say::number(
            t,
            estimate.input_tokens + estimate.cache_write_tokens + estimate.cache_read_tokens,
        ),
        est_pages: say::number(t, u64::from(estimate.pages)),
        est_cost: format!("{:.2}", estimate.usd),
        architectures_left: state.books.quota_left(user, Quota::Architecture).await?,
        books_left: books.left,
        budget: format!("{:.2}", state.books.budget_of(user, &book_ref).await?),
    };
    html(status, &tpl)
}

async fn review(
    page: PageCtx,
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<BookId>,
) -> Result<HttpResponse, AppError> {
    let book = state.books.get(&user, &id).await?;
    let arch = book.architecture();
    render(&state, page, &user, book, arch, None).await
}

#[derive(Deserialize)]
pub struct ArchitectureForm {
    csrf_token: String,
    #[serde(flatten)]
    fields: HashMap<String, String>,
}

impl CsrfProtected for ArchitectureForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

fn lines(s: Option<&String>) -> Vec<String> {
    s.map(|s| {
        s.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    })
    .unwrap_or_default()
}

/// Builds the architecture from the form rows (order field, remove box, empty rows ignored).
pub fn from_form(fields: &HashMap<String, String>) -> Result<Architecture, BookError> {
    let get = |k: &str| {
        fields
            .get(k)
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    let count: usize = get("ch_count")
        .parse()
        .unwrap_or(0)
        .min(buko_actors::model::MAX_CHAPTERS + 1);
    let mut rows = Vec::new();
    for i in 0..count {
        let title = get(&format!("ch{i}_title"));
        if title.is_empty() || fields.contains_key(&format!("ch{i}_remove")) {
            continue;
        }
        let words = get(&format!("ch{i}_words"));
        let target_words = words.parse::<u32>().map_err(|_| {
            BookError::problem(
                "architecture",
                Problem::WordTargetNotANumber { chapter: i + 1 },
                format!("chapter {}: the word target must be a number", i + 1),
            )
        })?;
        let order: f64 = get(&format!("ch{i}_order"))
            .parse()
            .unwrap_or(i as f64 + 1.0);
        rows.push((
            order,
            i,
            ChapterPlan {
                title,
                summary: get(&format!("ch{i}_summary")),
                key_points: lines(fields.get(&format!("ch{i}_points"))),
                target_words,
            },
        ));
    }
    rows.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let characters = lines(fields.get("characters"))
        .into_iter()
        .map(|l| {
            let mut parts = l.splitn(3, '|').map(|p| p.trim().to_string());
            Character {
                name: parts.next().unwrap_or_default(),
                role: parts.next().unwrap_or_default(),
                description: parts.next().filter(|d| !d.is_empty()),
            }
        })
        .collect();
    let mut arch = Architecture {
        title: get("title"),
        subtitle: get("subtitle"),
        synopsis: get("synopsis"),
        audience: get("audience"),
        tone: get("tone"),
        language: Language::parse(&get("language")).ok_or_else(|| {
            BookError::problem(
                "language",
                Problem::UnknownLanguage,
                "unknown language; use en or es",
            )
        })?,
        chapters: rows.into_iter().map(|(_, _, c)| c).collect(),
        ..Architecture::default()
    };
    arch.bible.characters = characters;
    arch.bible.facts = lines(fields.get("facts"));
    arch.bible.style = lines(fields.get("style"));
    Ok(arch)
}

async fn save(
    page: PageCtx,
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<BookId>,
    CsrfForm(form): CsrfForm<ArchitectureForm>,
) -> Result<HttpResponse, AppError> {
    let parsed = from_form(&form.fields);
    // Kept to show the author's edits again when the architecture is refused as invalid.
    let edited = parsed.as_ref().ok().cloned();
    match state.books.save_architecture(&user, &id, parsed).await {
        Ok((book, _)) => Ok(see_other(&format!("/books/{}", book.id))),
        Err(BookError::Invalid {
            field,
            reason,
            problem,
        }) => {
            let book = state.books.get(&user, &id).await?;
            let said = say::problem(page.t, field, &problem, &reason);
            render(&state, page, &user, book, edited, Some(said)).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct PlainForm {
    csrf_token: String,
}

impl CsrfProtected for PlainForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

#[derive(Deserialize)]
pub struct ApproveForm {
    csrf_token: String,
    #[serde(default)]
    budget_usd: String,
}

impl CsrfProtected for ApproveForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

async fn approve(
    page: PageCtx,
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<BookId>,
    CsrfForm(form): CsrfForm<ApproveForm>,
) -> Result<HttpResponse, AppError> {
    let budget = super::budget::parse_amount(&form.budget_usd)?;
    match state.books.approve(&user, &id, budget).await {
        Ok(_) => Ok(see_other(&format!("/books/{id}/live"))),
        // The review again, saying when a book is available (the plan's limit, not an error page).
        Err(BookError::QuotaExceeded { retry_after }) => {
            let said = say::with_wait(page.t, "limits.book_used", retry_after);
            let book = state.books.get(&user, &id).await?;
            let arch = book.architecture();
            let mut res = render(&state, page, &user, book, arch, Some(said)).await?;
            *res.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            res.headers_mut().insert(
                actix_web::http::header::RETRY_AFTER,
                actix_web::http::header::HeaderValue::from(retry_after),
            );
            Ok(res)
        }
        Err(BookError::Invalid {
            field,
            reason,
            problem,
        }) => {
            let said = say::problem(page.t, field, &problem, &reason);
            let book = state.books.get(&user, &id).await?;
            let arch = book.architecture();
            render(&state, page, &user, book, arch, Some(said)).await
        }
        Err(e) => Err(e.into()),
    }
}
