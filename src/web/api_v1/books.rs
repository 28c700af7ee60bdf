//! `/api/v1/books…`: create, list (search), read, change the cost limit, delete, duplicate, edit the
//! architecture, approve (with a cost limit),
//! controls, chapters, events, exports. A thin JSON door over `crate::books`, the same use cases the pages call.

use actix_web::{web, HttpResponse};
use buko_actors::model::Architecture;
use serde::Deserialize;
use serde_json::{json, Value};

use super::ApiUser;
use crate::books::{Control, NewBookInput};
use crate::db::ids::BookId;
use crate::db::repo::books::Book;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::render::download;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/books", web::post().to(create))
        .route("/books", web::get().to(list))
        .route("/books/{id}", web::get().to(get))
        .route("/books/{id}", web::delete().to(delete))
        .route("/books/{id}", web::patch().to(patch))
        .route("/books/{id}/duplicate", web::post().to(duplicate))
        .route("/books/{id}/architecture", web::put().to(put_architecture))
        .route("/books/{id}/approve", web::post().to(approve))
        .route(
            "/books/{id}/{action:cancel|pause|resume}",
            web::post().to(control),
        )
        .route("/books/{id}/chapters", web::get().to(chapters))
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
        "usage": {"input_tokens": b.input_tokens, "output_tokens": b.output_tokens, "cost_usd": b.cost_usd,
                  "cache_creation_input_tokens": b.cache_creation_tokens,
                  "cache_read_input_tokens": b.cache_read_tokens},
        "budget_usd": b.budget_usd,
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
    let input = NewBookInput {
        idea: b.idea,
        genre: b.genre,
        audience: b.audience,
        tone: b.tone,
        language: b.language,
        target_pages: b.target_pages,
    };
    let book = state.books.create(&user, &input).await?;
    Ok(HttpResponse::Accepted().json(json!({"id": book.id, "status": book.status})))
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default)]
    q: String,
}

async fn list(
    ApiUser(user): ApiUser,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, AppError> {
    let books = state.books.search(&user, &query.q).await?;
    Ok(HttpResponse::Ok().json(books.iter().map(summary).collect::<Vec<_>>()))
}

async fn get(
    ApiUser(user): ApiUser,
    state: web::Data<AppState>,
    id: web::Path<BookId>,
) -> Result<HttpResponse, AppError> {
    let book = state.books.get(&user, &id).await?;
    let mut v = detail(&book);
    if let Some(arch) = book.architecture() {
        let e = state.books.estimate_cost(&book, Some(&arch));
        v["estimate"] = json!({"usd": e.usd, "pages": e.pages, "input_tokens": e.input_tokens,
            "cache_write_tokens": e.cache_write_tokens, "cache_read_tokens": e.cache_read_tokens,
            "output_tokens": e.output_tokens});
    }
    Ok(HttpResponse::Ok().json(v))
}

async fn delete(
    ApiUser(user): ApiUser,
    state: web::Data<AppState>,
    id: web::Path<BookId>,
) -> Result<HttpResponse, AppError> {
    state.books.delete(&user, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, Default)]
struct DuplicateBody {
    #[serde(default)]
    title: String,
}

async fn duplicate(
    ApiUser(user): ApiUser,
    state: web::Data<AppState>,
    id: web::Path<BookId>,
    body: Option<web::Json<DuplicateBody>>,
) -> Result<HttpResponse, AppError> {
    let title = body.map(|b| b.into_inner().title).unwrap_or_default();
    let title = if title.trim().is_empty() {
        let source = state.books.get(&user, &id).await?;
        format!("{} (copy)", source.display_title())
    } else {
        title
    };
    let copy = state.books.duplicate(&user, &id, &title).await?;
    Ok(HttpResponse::Created().json(json!({"id": copy.id, "status": copy.status})))
}

#[derive(Deserialize)]
struct ArchitectureBody {
    architecture: Architecture,
}

async fn put_architecture(
    ApiUser(user): ApiUser,
    state: web::Data<AppState>,
    id: web::Path<BookId>,
    body: web::Json<ArchitectureBody>,
) -> Result<HttpResponse, AppError> {
    let arch = Ok(body.into_inner().architecture);
    let (book, saved) = state.books.save_architecture(&user, &id, arch).await?;
    Ok(HttpResponse::Ok()
        .json(json!({"id": book.id, "status": book.status, "architecture": saved})))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct BudgetBody {
    budget_usd: Option<f64>,
}

/// An optional JSON body: empty is the default, anything else must parse (a 400 says why).
fn budget_body(body: &[u8]) -> Result<BudgetBody, AppError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(BudgetBody::default());
    }
    serde_json::from_slice(body).map_err(|e| AppError::BadRequest(format!("invalid body: {e}")))
}

async fn approve(
    ApiUser(user): ApiUser,
    state: web::Data<AppState>,
    id: web::Path<BookId>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let budget = budget_body(&body)?.budget_usd;
    let status = state.books.approve(&user, &id, budget).await?;
    Ok(HttpResponse::Accepted().json(json!({"id": id.as_str(), "status": status.as_str()})))
}

/// Changes what may change on a book at any time: its cost limit.
async fn patch(
    ApiUser(user): ApiUser,
    state: web::Data<AppState>,
    id: web::Path<BookId>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let budget = budget_body(&body)?
        .budget_usd
        .ok_or_else(|| AppError::Validation("budget_usd is required".into()))?;
    let book = state.books.set_budget(&user, &id, budget).await?;
    Ok(HttpResponse::Ok().json(detail(&book)))
}

async fn control(
    ApiUser(user): ApiUser,
    state: web::Data<AppState>,
    path: web::Path<(BookId, String)>,
) -> Result<HttpResponse, AppError> {
    let (id, action) = path.into_inner();
    let c = Control::parse(&action).ok_or(AppError::NotFound)?;
    let status = state.books.control(&user, &id, c).await?;
    // Resume hands the book back to the queue (202); pause and cancel take effect now (200).
    let mut res = if c == Control::Resume {
        HttpResponse::Accepted()
    } else {
        HttpResponse::Ok()
    };
    Ok(res.json(json!({"id": id, "status": status.as_str()})))
}

async fn chapters(
    ApiUser(user): ApiUser,
    state: web::Data<AppState>,
    id: web::Path<BookId>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(state.books.chapters(&user, &id).await?))
}

#[derive(Deserialize)]
struct EventsQuery {
    #[serde(default)]
    after: i64,
}

async fn events(
    ApiUser(user): ApiUser,
    state: web::Data<AppState>,
    id: web::Path<BookId>,
    q: web::Query<EventsQuery>,
) -> Result<HttpResponse, AppError> {
    let events = state.books.events(&user, &id, q.after).await?;
    let out: Vec<Value> = events
        .into_iter()
        .map(|e| json!({"seq": e.seq, "kind": e.kind, "data": e.data, "at": e.at}))
        .collect();
    Ok(HttpResponse::Ok().json(out))
}

async fn export(
    ApiUser(user): ApiUser,
    state: web::Data<AppState>,
    path: web::Path<(BookId, String)>,
) -> Result<HttpResponse, AppError> {
    let (id, fmt) = path.into_inner();
    let file = state.books.export(&user, &id, &fmt).await?;
    Ok(download(file))
}
