//! The library (`/books`) and the idea wizard (`/books/new` → `POST /books`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::app::AppState;
use crate::db::{self, repo, repo::books::Book, repo::books::NewBook};
use crate::error::AppError;
use crate::limits::quota::{self, Quota};
use crate::web::render::{html, see_other};
use crate::web::session::{CsrfForm, CsrfProtected, CurrentUser, PageCtx};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/books", web::get().to(library))
        .route("/books", web::post().to(create))
        .route("/books/new", web::get().to(wizard));
}

#[derive(Template)]
#[template(path = "books/library.html")]
struct LibraryPage {
    page: PageCtx,
    books: Vec<Book>,
}

async fn library(
    page: PageCtx,
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let books = db::run(&state.db, move |c| repo::books::list_for_user(c, &user.id)).await?;
    html(StatusCode::OK, &LibraryPage { page, books })
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
    let remaining = quota::remaining(&state.db, &user, Quota::Architecture).await?;
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
    let pages = if pages.is_empty() {
        Ok(None)
    } else {
        pages
            .parse::<i64>()
            .map(Some)
            .map_err(|_| "target_pages must be a number".to_string())
    };
    let valid = pages.and_then(|p| {
        NewBook::validate(
            &form.idea,
            &form.genre,
            &form.audience,
            &form.tone,
            &form.language,
            p,
        )
    });
    let new = match valid {
        Ok(n) => n,
        Err(message) => {
            let remaining = quota::remaining(&state.db, &user, Quota::Architecture).await?;
            return html(
                StatusCode::UNPROCESSABLE_ENTITY,
                &WizardPage {
                    page,
                    error: Some(message),
                    form,
                    remaining,
                },
            );
        }
    };
    let used = quota::take(&state.db, &user, Quota::Architecture, None).await?;
    let book = db::run(&state.db, move |c| repo::books::create(c, &user.id, &new)).await?;
    quota::attach(&state.db, used, book.id.clone()).await?;
    Ok(see_other(&format!("/books/{}", book.id)))
}
