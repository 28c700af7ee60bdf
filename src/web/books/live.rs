//! The live writing view (`/books/{id}/live`) and the controls (pause / resume / cancel; regenerating a
//! chapter is the reader's, in `chapters`). The page renders what is committed; `static/live.js` streams the rest over `/ws` and reads
//! two small JSON resources here to fill gaps after a reconnect and to refresh usage figures.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use buko_actors::model::BookStatus;
use serde::Deserialize;
use serde_json::json;

use super::review::PlainForm;
use crate::books::{Control, Download};
use crate::db::ids::BookId;
use crate::db::types::ChapterStatus;
use crate::db::{self, repo, repo::books::Book, repo::chapters::ChapterText};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::render::{html, see_other};
use crate::web::session::{CsrfForm, CurrentUser, PageCtx};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/books/{id}/live", web::get().to(live))
        .route("/books/{id}/progress", web::get().to(progress))
        .route("/books/{id}/chunks", web::get().to(chunks))
        .route("/books/{id}/control/{action}", web::post().to(control));
}

#[derive(Template)]
#[template(path = "books/live.html")]
struct LivePage {
    page: PageCtx,
    book: Book,
    chapters: Vec<ChapterText>,
    last_seq: i64,
    last_chunk_seq: i64,
    target_words: u64,
    /// Shown once the book is completed (the page's script reveals them when it completes live).
    downloads: Vec<Download>,
}

impl LivePage {
    fn paragraphs(&self, text: &str) -> Vec<Vec<super::Piece>> {
        super::prose(text, &[])
    }
    /// The book's words with the language's thousands separator (as the page's script shows them).
    fn words(&self) -> String {
        crate::web::say::number(self.page.t, u64::try_from(self.book.words).unwrap_or(0))
    }
    fn tokens(&self) -> String {
        let n = self
            .book
            .input_tokens
            .saturating_add(self.book.output_tokens);
        crate::web::say::number(self.page.t, u64::try_from(n).unwrap_or(0))
    }
    /// The cost limit is offered while the book can still spend (not once completed or cancelled).
    fn budget_editable(&self) -> bool {
        !matches!(
            self.book.status(),
            BookStatus::Completed | BookStatus::Cancelled
        )
    }
    fn can_pause(&self) -> bool {
        matches!(
            self.book.status(),
            BookStatus::Queued | BookStatus::Generating
        )
    }
    fn can_resume(&self) -> bool {
        matches!(self.book.status(), BookStatus::Paused | BookStatus::Failed)
    }
    fn can_cancel(&self) -> bool {
        !self.book.status().is_terminal()
    }
    /// The localized label of a chapter's state (`pending`, `writing`, `done`).
    fn chapter_label(&self, status: &ChapterStatus) -> &'static str {
        match status {
            ChapterStatus::Done => self.page.t.get("live.chapter_done"),
            ChapterStatus::Writing => self.page.t.get("live.chapter_writing"),
            ChapterStatus::Pending => self.page.t.get("live.chapter_pending"),
        }
    }
}

async fn live(
    page: PageCtx,
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<BookId>,
) -> Result<HttpResponse, AppError> {
    let book = state.books.get(&user, &id).await?;
    let book_id = book.id.clone();
    let (chapters, last_seq, last_chunk_seq) = db::run(&state.db, move |c| {
        let chapters = repo::chapters::list_with_text(c, &book_id)?;
        let last_seq = repo::events::last_seq(c, &book_id)?;
        let last_chunk = repo::chapters::chunks_after(c, &book_id, 0, i64::MAX)?
            .last()
            .map_or(0, |ch| ch.seq);
        Ok((chapters, last_seq, last_chunk))
    })
    .await?;
    let target_words = book.architecture().map_or(0, |a| a.total_target_words());
    let downloads = state.books.downloads_or_formats(&book).await?;
    html(
        StatusCode::OK,
        &LivePage {
            page,
            book,
            chapters,
            last_seq,
            last_chunk_seq,
            target_words,
            downloads,
        },
    )
}

async fn progress(
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<BookId>,
) -> Result<HttpResponse, AppError> {
    let b = state.books.get(&user, &id).await?;
    Ok(HttpResponse::Ok().json(json!({
        "status": b.status,
        "status_reason": b.status_reason,
        "chunks_done": b.chunks_done,
        "chunks_total": b.chunks_total,
        "words": b.words,
        "input_tokens": b.input_tokens,
        "output_tokens": b.output_tokens,
        "cost_usd": b.cost_usd,
    })))
}

#[derive(Deserialize)]
struct AfterQuery {
    #[serde(default)]
    after: i64,
}

async fn chunks(
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<BookId>,
    q: web::Query<AfterQuery>,
) -> Result<HttpResponse, AppError> {
    let rows = state.books.chunks_after(&user, &id, q.after, 200).await?;
    Ok(HttpResponse::Ok().json(rows))
}

async fn control(
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<(BookId, String)>,
    _form: CsrfForm<PlainForm>,
) -> Result<HttpResponse, AppError> {
    let (id, action) = path.into_inner();
    let c = Control::parse(&action).ok_or(AppError::NotFound)?;
    state.books.control(&user, &id, c).await?;
    Ok(see_other(&format!("/books/{id}/live")))
}
