//! The reader (`/books/{id}/read`, with a regenerate button per chapter once the book is written, the
//! continuity audit's findings highlighted in the text and the story ledger's form), the
//! book's credits form (pen name, dedication, copyright line — printed by every export) and downloads
//! (`/books/{id}/export/{fmt}`), owner or admin only.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::books::{AuditReport, Download};
use crate::db::ids::BookId;
use crate::db::repo::books::Credits;
use crate::db::repo::memory::FindingRow;
use crate::db::{repo::books::Book, repo::chapters::ChapterText};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::render::{download as send_file, html, see_other};
use crate::web::session::{CsrfForm, CsrfProtected, CurrentUser, PageCtx};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/books/{id}/read", web::get().to(read))
        .route("/books/{id}/credits", web::post().to(credits))
        .route("/books/{id}/export/{fmt}", web::get().to(download));
}

#[derive(Template)]
#[template(path = "books/read.html")]
struct ReadPage {
    page: PageCtx,
    book: Book,
    chapters: Vec<ChapterText>,
    downloads: Vec<Download>,
    audit: AuditReport,
    /// The story ledger as the form's three text areas: characters, places, facts.
    ledger: (String, String, String),
}

impl ReadPage {
    /// The regenerate buttons: on the books the regenerate use case accepts (completed, paused, failed).
    fn can_regenerate(&self) -> bool {
        use buko_actors::BookStatus::{Completed, Failed, Paused};
        matches!(self.book.status(), Completed | Paused | Failed)
    }

    /// The open findings of a chapter.
    fn findings_of(&self, position: &i32) -> Vec<&FindingRow> {
        self.audit
            .open()
            .filter(|f| f.chapter_index == *position)
            .collect()
    }

    /// Paragraphs of a chapter (blank-line separated), each as runs of text with their emphasis
    /// (`*x*`, `_x_`, `**x**`: the exports' own parser, so the reader shows what a download prints)
    /// and the open findings' quotes marked. The template escapes every run's text.
    fn paragraphs(&self, position: &i32, text: &str) -> Vec<Vec<super::Piece>> {
        let findings = self.findings_of(position);
        let quotes: Vec<&str> = findings.iter().map(|f| f.quote.as_str()).collect();
        super::prose(text, &quotes)
    }
}

async fn read(
    page: PageCtx,
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<BookId>,
) -> Result<HttpResponse, AppError> {
    let book = state.books.get(&user, &id).await?;
    let chapters = state.books.chapters(&user, &id).await?;
    let downloads = state.books.downloads(&book).await?;
    let audit = state.books.audit(&user, &id).await?;
    let ledger = super::memory::ledger_lines(&state.books.ledger(&user, &id).await?);
    html(
        StatusCode::OK,
        &ReadPage {
            page,
            book,
            chapters,
            downloads,
            audit,
            ledger,
        },
    )
}

#[derive(Deserialize)]
struct CreditsForm {
    csrf_token: String,
    #[serde(default)]
    pen_name: String,
    #[serde(default)]
    dedication: String,
    #[serde(default)]
    copyright_line: String,
}

impl CsrfProtected for CreditsForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

async fn credits(
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<BookId>,
    CsrfForm(form): CsrfForm<CreditsForm>,
) -> Result<HttpResponse, AppError> {
    let c = Credits {
        pen_name: form.pen_name,
        dedication: form.dedication,
        copyright_line: form.copyright_line,
    };
    state.books.set_credits(&user, &id, &c).await?;
    Ok(see_other(&format!("/books/{id}/read#credits")))
}

async fn download(
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<(BookId, String)>,
) -> Result<HttpResponse, AppError> {
    let (id, fmt) = path.into_inner();
    Ok(send_file(state.books.export(&user, &id, &fmt).await?))
}
