//! `/api/v1/books…`: create, list, read, edit the architecture, approve, controls, chapters, events,
//! exports. Same repository functions and owner checks as the pages.

use actix_web::{web, HttpResponse};
use buko_actors::model::{Architecture, BookStatus};
use serde::Deserialize;
use serde_json::{json, Value};

use super::ApiUser;
use crate::app::AppState;
use crate::db::{self, repo, repo::books::Book, repo::books::Control, repo::books::NewBook};
use crate::error::AppError;
use crate::limits::quota::{self, Quota};
use crate::web::books::owned_book;
use crate::web::books::reader::export_file;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/books", web::post().to(create))
        .route("/books", web::get().to(list))
        .route("/books/{id}", web::get().to(get))
        .route("/books/{id}/architecture", web::put().to(put_architecture))
        .route("/books/{id}/approve", web::post().to(approve))
        .route(
            "/books/{id}/{action:cancel|pause|resume}",
            web::post().to(control),
        )
        .route("/books/{id}/chapters", web::get().to(chapters))
        .route(
            "/books/{id}/chapters/{n}/regenerate",
            web::post().to(regenerate),
        )
        .route("/books/{id}/events", web::get().to(events))
        .route("/books/{id}/export/{fmt}", web::get().to(export));
}

fn summary(b: &Book) -> Value {
    json!({
        "id": b.id,
        "title": b.title,
        "status": b.status,
        "language": b.language,
        "is_demo": b.is_demo,
        "progress": {"chunks_done": b.chunks_done, "chunks_total": b.chunks_total, "words": b.words},
        "created_at": b.created_at.and_utc(),
    })
}

fn detail(b: &Book) -> Value {
    let mut v = json!({
        "id": b.id,
        "title": b.title,
        "idea": b.idea,
        "status": b.status,
        "language": b.language,
        "target_pages": b.target_pages,
        "is_demo": b.is_demo,
        "progress": {"chunks_done": b.chunks_done, "chunks_total": b.chunks_total, "words": b.words},
        "usage": {"input_tokens": b.input_tokens, "output_tokens": b.output_tokens, "cost_usd": b.cost_usd},
        "created_at": b.created_at.and_utc(),
        "completed_at": b.completed_at.map(|t| t.and_utc()),
    });
    if let Some(reason) = &b.status_reason {
        v["status_reason"] = json!(reason);
    }
    if let Some(arch) = b.architecture() {
        v["architecture"] = json!(arch);
    }
    v
}

#[derive(Deserialize)]
struct CreateBody {
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
    target_pages: Option<i64>,
}

async fn create(
    ApiUser(user): ApiUser,
    state: web::Data<AppState>,
    body: web::Json<CreateBody>,
) -> Result<HttpResponse, AppError> {
    let b = body.into_inner();
    let new = NewBook::validate(
        &b.idea,
        &b.genre,
        &b.audience,
        &b.tone,
        &b.language,
        b.target_pages,
    )
    .map_err(AppError::Validation)?;
    let used = quota::take(&state.db, &user, Quota::Architecture, None).await?;
    let book = db::run(&state.db, move |c| repo::books::create(c, &user.id, &new)).await?;
    quota::attach(&state.db, used, book.id.clone()).await?;
    Ok(HttpResponse::Accepted().json(json!({"id": book.id, "status": book.status})))
}

async fn list(
    ApiUser(user): ApiUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let books = db::run(&state.db, move |c| repo::books::list_for_user(c, &user.id)).await?;
    Ok(HttpResponse::Ok().json(books.iter().map(summary).collect::<Vec<_>>()))
}

async fn get(
    ApiUser(user): ApiUser,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let book = owned_book(&state, &user, &id).await?;
    Ok(HttpResponse::Ok().json(detail(&book)))
}

#[derive(Deserialize)]
struct ArchitectureBody {
    architecture: Architecture,
}

async fn put_architecture(
    ApiUser(user): ApiUser,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<ArchitectureBody>,
) -> Result<HttpResponse, AppError> {
    let book = owned_book(&state, &user, &id).await?;
    let arch = body.into_inner().architecture;
    let book_id = book.id.clone();
    let saved = db::run(&state.db, move |c| {
        Ok(repo::books::update_architecture(c, &book_id, arch))
    })
    .await??;
    Ok(HttpResponse::Ok()
        .json(json!({"id": book.id, "status": book.status, "architecture": saved})))
}

async fn approve(
    ApiUser(user): ApiUser,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let book = owned_book(&state, &user, &id).await?;
    if book.status() != BookStatus::ArchitectureReady {
        return Err(AppError::Conflict(format!(
            "cannot approve a book that is {}",
            book.status
        )));
    }
    quota::take(&state.db, &user, Quota::Book, Some(&book.id)).await?;
    let book_id = book.id.clone();
    db::run(&state.db, move |c| Ok(repo::books::approve(c, &book_id))).await??;
    Ok(
        HttpResponse::Accepted()
            .json(json!({"id": book.id, "status": BookStatus::Queued.as_str()})),
    )
}

async fn control(
    ApiUser(user): ApiUser,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (id, action) = path.into_inner();
    let c = Control::parse(&action).ok_or(AppError::NotFound)?;
    let book = owned_book(&state, &user, &id).await?;
    let book_id = book.id.clone();
    let status = db::run(&state.db, move |conn| {
        Ok(repo::books::control(conn, &book_id, c))
    })
    .await??;
    // Resume hands the book back to the queue (202); pause and cancel take effect now (200).
    let mut res = if c == Control::Resume {
        HttpResponse::Accepted()
    } else {
        HttpResponse::Ok()
    };
    Ok(res.json(json!({"id": book.id, "status": status.as_str()})))
}

async fn regenerate(
    ApiUser(user): ApiUser,
    state: web::Data<AppState>,
    path: web::Path<(String, usize)>,
) -> Result<HttpResponse, AppError> {
    let (id, n) = path.into_inner();
    let book = owned_book(&state, &user, &id).await?;
    let book_id = book.id.clone();
    db::run(&state.db, move |c| {
        Ok(repo::books::regenerate_chapter(c, &book_id, n))
    })
    .await??;
    Ok(HttpResponse::Accepted()
        .json(json!({"id": book.id, "status": BookStatus::Queued.as_str(), "chapter": n})))
}

async fn chapters(
    ApiUser(user): ApiUser,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let book = owned_book(&state, &user, &id).await?;
    let rows = db::run(&state.db, move |c| {
        repo::chapters::list_with_text(c, &book.id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(rows))
}

#[derive(Deserialize)]
struct EventsQuery {
    #[serde(default)]
    after: i64,
}

async fn events(
    ApiUser(user): ApiUser,
    state: web::Data<AppState>,
    id: web::Path<String>,
    q: web::Query<EventsQuery>,
) -> Result<HttpResponse, AppError> {
    let book = owned_book(&state, &user, &id).await?;
    let after = q.after;
    let rows = db::run(&state.db, move |c| {
        repo::events::list_after(c, &book.id, after, 1000)
    })
    .await?;
    let out: Vec<Value> = rows
        .into_iter()
        .map(|r| {
            let e = r.to_book_event();
            json!({"seq": e.seq, "kind": e.kind, "data": e.data, "at": e.at})
        })
        .collect();
    Ok(HttpResponse::Ok().json(out))
}

async fn export(
    ApiUser(user): ApiUser,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (id, fmt) = path.into_inner();
    export_file(&state, &user, &id, &fmt).await
}
