//! The library (`/books`: search, downloads of finished books, duplicate, delete after a confirmation
//! page) and the idea wizard (`/books/new` → `POST /books`).

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use buko_actors::BookStatus;

use super::review::PlainForm;
use crate::books::{BookError, Download, NewBookInput, MAX_QUERY_CHARS};
use crate::db::ids::BookId;
use crate::db::models::User;
use crate::db::repo::books::Book;
use crate::error::AppError;
use crate::limits::quota::Quota;
use crate::state::AppState;
use crate::web::render::{html, see_other};
use crate::web::say;
use crate::web::session::{CsrfForm, CsrfProtected, CurrentUser, PageCtx};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        // An idea far past its limit still reaches the use case, so the form comes back with the
        // text and a sentence, not a bare "too large" page.
        web::resource("/books")
            .app_data(
                web::FormConfig::default()
                    .limit(1024 * 1024)
                    .error_handler(|e, _| crate::web::session::form_error(&e.into()).into()),
            )
            .route(web::get().to(library))
            .route(web::post().to(create)),
    )
    .route("/books/{id}/delete", web::get().to(confirm_delete))
    .route("/books/{id}/delete", web::post().to(delete))
    .route("/books/{id}/duplicate", web::post().to(duplicate))
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

impl LibraryPage {
    /// A word count as the author's language writes it (25,089 / 25.089).
    fn count(&self, n: &i64) -> String {
        say::number(self.page.t, u64::try_from(*n).unwrap_or(0))
    }
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
    /// Why the submit button is disabled (no outline left on the plan now), wait in words.
    blocked: Option<String>,
}

impl WizardPage {
    async fn new(
        state: &AppState,
        user: &User,
        page: PageCtx,
        form: WizardForm,
        error: Option<String>,
    ) -> Result<WizardPage, AppError> {
        let quota = state
            .books
            .quota_availability(user, Quota::Architecture)
            .await?;
        let blocked = quota
            .wait_secs
            .map(|secs| say::with_wait(page.t, "limits.no_architectures", secs));
        Ok(WizardPage {
            page,
            error,
            form,
            remaining: quota.left,
            blocked,
        })
    }
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
    let form = WizardForm {
        language: page.lang.to_string(),
        target_pages: "100".into(),
        ..WizardForm::default()
    };
    html(
        StatusCode::OK,
        &WizardPage::new(&state, &user, page, form, None).await?,
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
        // The form again with the reason in plain words, the author's answers kept.
        Err(BookError::Invalid {
            field,
            reason,
            problem,
        }) => {
            let said = say::problem(page.t, field, &problem, &reason);
            html(
                StatusCode::UNPROCESSABLE_ENTITY,
                &WizardPage::new(&state, &user, page, form, Some(said)).await?,
            )
        }
        // The plan's limit: the form again, saying when the next outline is available.
        Err(BookError::QuotaExceeded { retry_after }) => {
            let said = say::with_wait(page.t, "limits.architecture_used", retry_after);
            let mut tpl = WizardPage::new(&state, &user, page, form, None).await?;
            tpl.blocked = Some(said);
            let mut res = html(StatusCode::TOO_MANY_REQUESTS, &tpl)?;
            res.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(retry_after));
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}
