//! The library (`/books`: search, downloads of finished books, duplicate, delete after a confirmation
//! page) and the idea wizard (`/books/new` → `POST /books`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use buko_actors::BookStatus;

use super::review::PlainForm;
use crate::books::{BookError, Download, NewBookInput, MAX_QUERY_CHARS};
use crate::db::ids::BookId;
use crate::db::repo::books::Book;
use crate::error::AppError;
use crate::limits::quota::Quota;
use crate::state::AppState;
use crate::web::render::{html, see_other};
use crate::web::session::{CsrfForm, CsrfProtected, CurrentUser, PageCtx};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/books", web::get().to(library))
        .route("/books/{id}/delete", web::get().to(confirm_delete))
        .route("/books/{id}/delete", web::post().to(delete))
        .route("/books/{id}/duplicate", web::post().to(duplicate))
        .route("/books", web::post().to(create))
        .route("/books/new", web::get().to(wizard));
}

/// One row of the library: the book, and its downloads once it is finished.
pub struct LibraryRow {
    pub book: Book,
    pub downloads: Vec<Download>,
}

#[derive(Template)]
#[template(path = "books/library.html")]
struct LibraryPage {
    page: PageCtx,
    rows: Vec<LibraryRow>,
    /// The search as typed (empty: every book).
    q: String,
}

#[derive(Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
}

async fn library(
    page: PageCtx,
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
    query: web::Query<SearchQuery>,
) -> Result<HttpResponse, AppError> {
    let q: String = query.q.trim().chars().take(MAX_QUERY_CHARS).collect();
    let books = state.books.search(&user, &q).await?;
    let mut rows = Vec::with_capacity(books.len());
    for book in books {
        let downloads = if book.status() == BookStatus::Completed {
            state.books.downloads(&book).await?
        } else {
            Vec::new()
        };
        rows.push(LibraryRow { book, downloads });
    }
    html(StatusCode::OK, &LibraryPage { page, rows, q })
}

#[derive(Template)]
#[template(path = "books/delete.html")]
struct DeletePage {
    page: PageCtx,
    book: Book,
}

async fn confirm_delete(
    page: PageCtx,
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<BookId>,
) -> Result<HttpResponse, AppError> {
    let book = state.books.get(&user, &id).await?;
    html(StatusCode::OK, &DeletePage { page, book })
}

async fn delete(
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<BookId>,
    _form: CsrfForm<PlainForm>,
) -> Result<HttpResponse, AppError> {
    state.books.delete(&user, &id).await?;
    Ok(see_other("/books"))
}

async fn duplicate(
    page: PageCtx,
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<BookId>,
    _form: CsrfForm<PlainForm>,
) -> Result<HttpResponse, AppError> {
    let source = state.books.get(&user, &id).await?;
    let title = format!(
        "{} {}",
        source.display_title(),
        page.t.get("books.copy_suffix")
    );
    let copy = state.books.duplicate(&user, &id, &title).await?;
    Ok(see_other(&format!("/books/{}", copy.id)))
}

#[derive(Template)]
#[template(path = "books/new.html")]
struct WizardPage {
    page: PageCtx,
    error: Option<String>,
    form: WizardForm,
    remaining: u64,
}

#[derive(Clone, Default, Deserialize)]
pub struct WizardForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    idea: String,
    #[serde(default)]
    genre: String,
    #[serde(default)]
    audience: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    tone: String,
    #[serde(default)]
    target_pages: String,
}

impl CsrfProtected for WizardForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

async fn wizard(
    page: PageCtx,
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let remaining = state.books.quota_left(&user, Quota::Architecture).await?;
    let form = WizardForm {
        language: page.lang.to_string(),
        target_pages: "100".into(),
        ..WizardForm::default()
    };
    html(
        StatusCode::OK,
        &WizardPage {
            page,
            error: None,
            form,
            remaining,
        },
    )
}

async fn create(
    page: PageCtx,
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<WizardForm>,
) -> Result<HttpResponse, AppError> {
    let pages = form.target_pages.trim();
    let target_pages = if pages.is_empty() {
        None
    } else {
        match pages.parse::<i64>() {
            Ok(p) => Some(p),
            // Not a number: the same refusal as an out-of-range length.
            Err(_) => Some(0),
        }
    };
    let input = NewBookInput {
        idea: form.idea.clone(),
        genre: form.genre.clone(),
        audience: form.audience.clone(),
        tone: form.tone.clone(),
        language: form.language.clone(),
        target_pages,
    };
    match state.books.create(&user, &input).await {
        Ok(book) => Ok(see_other(&format!("/books/{}", book.id))),
        // The form again with the reason, the author's answers kept.
        Err(BookError::Invalid { reason, .. }) => {
            let remaining = state.books.quota_left(&user, Quota::Architecture).await?;
            html(
                StatusCode::UNPROCESSABLE_ENTITY,
                &WizardPage {
                    page,
                    error: Some(reason),
                    form,
                    remaining,
                },
            )
        }
        Err(e) => Err(e.into()),
    }
}
