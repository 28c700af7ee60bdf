//! Generations: every user's books by status, one book's events and LLM usage, and the operator's
//! cancel and retry. Cancel marks the book (`control = cancel`, status `cancelled`, which any node's
//! orchestrator reads between chunks) and stops it at once if it runs on this node; retry puts a failed
//! or paused book back in the queue with a new book job.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use buko_actors::BookStatus;
use serde::Deserialize;
use serde_json::json;

use super::{audit, ActionForm, RequireAdmin};
use crate::books::Control;
use crate::db::ids::BookId;
use crate::db::repo::admin::{BookRow, CallRow, EventRow};
use crate::db::repo::books::Book;
use crate::db::{self, repo};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::render::{html, see_other};
use crate::web::session::{CsrfForm, PageCtx};

const SHOWN: i64 = 200;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/books", web::get().to(list))
        .route("/books/{id}", web::get().to(detail))
        .route("/books/{id}/{action:cancel|retry}", web::post().to(act));
}

#[derive(Deserialize)]
struct StatusQuery {
    #[serde(default)]
    status: String,
}

#[derive(Template)]
#[template(path = "admin/books.html")]
struct BooksPage {
    page: PageCtx,
    status: String,
    statuses: Vec<&'static str>,
    rows: Vec<BookRow>,
}

async fn list(
    _admin: RequireAdmin,
    page: PageCtx,
    state: web::Data<AppState>,
    q: web::Query<StatusQuery>,
) -> Result<HttpResponse, AppError> {
    // An unknown status filters nothing out rather than failing: it comes from a select box.
    let status = BookStatus::parse(&q.status);
    let rows = db::run(&state.db, move |c| {
        repo::admin::list_books(c, status, SHOWN)
    })
    .await?;
    html(
        StatusCode::OK,
        &BooksPage {
            page,
            status: status.map(|s| s.to_string()).unwrap_or_default(),
            statuses: BookStatus::ALL.iter().map(|s| s.as_str()).collect(),
            rows,
        },
    )
}

#[derive(Template)]
#[template(path = "admin/book.html")]
struct BookPage {
    page: PageCtx,
    book: Book,
    owner: String,
    events: Vec<EventRow>,
    calls: Vec<CallRow>,
    can_cancel: bool,
    can_retry: bool,
}

async fn detail(
    _admin: RequireAdmin,
    page: PageCtx,
    state: web::Data<AppState>,
    id: web::Path<BookId>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let (book, owner, events, calls) = db::run(&state.db, move |c| {
        let book = repo::books::get(c, &id)?;
        let owner = repo::users::find(c, &book.user_id)?.map(|u| u.email);
        let events = repo::admin::book_events(c, &id, 200)?;
        let calls = repo::admin::book_calls(c, &id, 200)?;
        Ok((book, owner.unwrap_or_default(), events, calls))
    })
    .await?;
    let status = book.status();
    html(
        StatusCode::OK,
        &BookPage {
            page,
            can_cancel: !matches!(
                status,
                BookStatus::Completed | BookStatus::Failed | BookStatus::Cancelled
            ),
            can_retry: matches!(status, BookStatus::Failed | BookStatus::Paused),
            book,
            owner,
            events,
            calls,
        },
    )
}

async fn act(
    RequireAdmin(admin): RequireAdmin,
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(BookId, String)>,
    _form: CsrfForm<ActionForm>,
) -> Result<HttpResponse, AppError> {
    let (id, action) = path.into_inner();
    let (control, name) = match action.as_str() {
        "cancel" => (Control::Cancel, "book.cancel"),
        "retry" => (Control::Resume, "book.retry"),
        _ => return Err(AppError::NotFound),
    };
    // The author's use case (an admin may act on any book), so the status rules are the same.
    let from = state.books.get(&admin, &id).await?.status;
    let to = state.books.control(&admin, &id, control).await?;
    let detail = json!({"from": from, "to": to.as_str()});
    audit(&state, &admin, &req, name, ("book", id.to_string()), detail).await?;
    Ok(see_other(&format!("/admin/books/{id}")))
}
