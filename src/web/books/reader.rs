//! The reader (`/books/{id}/read`) and downloads (`/books/{id}/export/{fmt}`), owner or admin only.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;

use super::{export, owned_book};
use crate::app::AppState;
use crate::db::{self, repo, repo::books::Book, repo::chapters::ChapterText};
use crate::error::AppError;
use crate::web::render::html;
use crate::web::session::{CurrentUser, PageCtx};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/books/{id}/read", web::get().to(read))
        .route("/books/{id}/export/{fmt}", web::get().to(download));
}

#[derive(Template)]
#[template(path = "books/read.html")]
struct ReadPage {
    page: PageCtx,
    book: Book,
    chapters: Vec<ChapterText>,
}

impl ReadPage {
    /// Paragraphs of a chapter (blank-line separated), escaped by the template.
    fn paragraphs<'a>(&self, text: &'a str) -> Vec<&'a str> {
        text.split("\n\n")
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect()
    }
}

async fn read(
    page: PageCtx,
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let book = owned_book(&state, &user, &id).await?;
    let book_id = book.id.clone();
    let chapters = db::run(&state.db, move |c| {
        repo::chapters::list_with_text(c, &book_id)
    })
    .await?;
    html(
        StatusCode::OK,
        &ReadPage {
            page,
            book,
            chapters,
        },
    )
}

/// Loads the book (owner check) and its chapters, and renders `fmt` (shared with the API).
pub async fn export_file(
    state: &AppState,
    user: &crate::db::models::User,
    id: &str,
    fmt: &str,
) -> Result<HttpResponse, AppError> {
    let book = owned_book(state, user, id).await?;
    let book_id = book.id.clone();
    let chapters = db::run(&state.db, move |c| {
        repo::chapters::list_with_text(c, &book_id)
    })
    .await?;
    let file = export::render(fmt, &book, &chapters)?;
    Ok(export::attachment(&book, file))
}

async fn download(
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (id, fmt) = path.into_inner();
    export_file(&state, &user, &id, &fmt).await
}
