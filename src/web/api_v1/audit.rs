//! `/api/v1/books/{id}/audit…` and `/ledger`: the continuity audit's findings (dismiss one, apply
//! one as a regeneration of its chapter), the audit's switch, and the story ledger the author may
//! correct. A thin JSON door over `crate::books` (the reader's pages call the same use cases).

use actix_web::{web, HttpResponse};
use buko_actors::Ledger;
use serde::Deserialize;
use serde_json::json;

use super::ApiUser;
use crate::db::ids::BookId;
use crate::error::AppError;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/books/{id}/audit", web::get().to(report))
        .route("/books/{id}/audit", web::put().to(switch))
        .route(
            "/books/{id}/audit/{finding}/dismiss",
            web::post().to(dismiss),
        )
        .route("/books/{id}/audit/{finding}/apply", web::post().to(apply))
        .route("/books/{id}/ledger", web::get().to(ledger))
        .route("/books/{id}/ledger", web::put().to(update_ledger));
}

async fn report(
    ApiUser(user): ApiUser,
    state: web::Data<AppState>,
    id: web::Path<BookId>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(state.books.audit(&user, &id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SwitchBody {
    enabled: bool,
}

async fn switch(
    ApiUser(user): ApiUser,
    state: web::Data<AppState>,
    id: web::Path<BookId>,
    body: web::Json<SwitchBody>,
) -> Result<HttpResponse, AppError> {
    let enabled = state.books.set_audit(&user, &id, body.enabled).await?;
    Ok(HttpResponse::Ok().json(json!({ "enabled": enabled })))
}

async fn dismiss(
    ApiUser(user): ApiUser,
    state: web::Data<AppState>,
    path: web::Path<(BookId, String)>,
) -> Result<HttpResponse, AppError> {
    let (id, finding) = path.into_inner();
    state.books.dismiss_finding(&user, &id, &finding).await?;
    Ok(HttpResponse::Ok().json(json!({ "id": finding, "status": "dismissed" })))
}

async fn apply(
    ApiUser(user): ApiUser,
    state: web::Data<AppState>,
    path: web::Path<(BookId, String)>,
) -> Result<HttpResponse, AppError> {
    let (id, finding) = path.into_inner();
    let status = state.books.apply_finding(&user, &id, &finding).await?;
    Ok(HttpResponse::Accepted().json(json!({
        "id": finding, "status": "applied", "book_status": status.as_str(),
    })))
}

async fn ledger(
    ApiUser(user): ApiUser,
    state: web::Data<AppState>,
    id: web::Path<BookId>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(state.books.ledger(&user, &id).await?))
}

async fn update_ledger(
    ApiUser(user): ApiUser,
    state: web::Data<AppState>,
    id: web::Path<BookId>,
    body: web::Json<Ledger>,
) -> Result<HttpResponse, AppError> {
    let stored = state
        .books
        .update_ledger(&user, &id, body.into_inner())
        .await?;
    Ok(HttpResponse::Ok().json(stored))
}
