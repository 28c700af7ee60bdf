//! The reader (`/books/{id}/read`) and downloads (`/books/{id}/export/{fmt}`), owner or admin only.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;

use super::owned_book;
use crate::db::{self, repo, repo::books::Book, repo::chapters::ChapterText};
use crate::error::AppError;
use crate::state::AppState;
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

/// Loads the book (owner check) and renders `fmt` through the exports crate (shared with the API); an
/// unknown format is a 404.
pub async fn export_file(
    state: &AppState,
    user: &crate::db::models::User,
    id: &str,
    fmt: &str,
) -> Result<HttpResponse, AppError> {
    let book = owned_book(state, user, id).await?;
    let format = buko_export::Format::from_ext(fmt).ok_or(AppError::NotFound)?;
    let file = crate::export::export(state, &book.id, format).await?;
    Ok(HttpResponse::Ok()
        .content_type(file.content_type)
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            crate::export::content_disposition(&file.file_name),
        ))
        .insert_header((actix_web::http::header::CACHE_CONTROL, "private, no-store"))
        .body(file.bytes))
}

async fn download(
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (id, fmt) = path.into_inner();
    export_file(&state, &user, &id, &fmt).await
}
