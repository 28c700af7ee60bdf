//! `/api/v1/books/{id}/chapters/{n}…`: change a written chapter — edit its text, list its versions,
//! restore one, regenerate it (with an optional instruction). A thin JSON door over `crate::books`,
//! the same use cases the reader's pages call. `n` is 0-based.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::ApiUser;
use crate::books::RegenerateRequest;
use crate::db::ids::BookId;
use crate::error::AppError;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/books/{id}/chapters/{n}", web::put().to(edit))
        .route("/books/{id}/chapters/{n}/versions", web::get().to(versions))
        .route(
            "/books/{id}/chapters/{n}/versions/{v}/restore",
            web::post().to(restore),
        )
        .route(
            "/books/{id}/chapters/{n}/regenerate",
            web::post().to(regenerate),
        );
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EditBody {
    content: String,
}

async fn edit(
    ApiUser(user): ApiUser,
    state: web::Data<AppState>,
    path: web::Path<(BookId, usize)>,
    body: web::Json<EditBody>,
) -> Result<HttpResponse, AppError> {
    let (id, n) = path.into_inner();
    let saved = state
        .books
        .edit_chapter(&user, &id, n, &body.content)
        .await?;
    Ok(HttpResponse::Ok().json(saved))
}

async fn versions(
    ApiUser(user): ApiUser,
    state: web::Data<AppState>,
    path: web::Path<(BookId, usize)>,
) -> Result<HttpResponse, AppError> {
    let (id, n) = path.into_inner();
    Ok(HttpResponse::Ok().json(state.books.chapter_history(&user, &id, n).await?))
}

async fn restore(
    ApiUser(user): ApiUser,
    state: web::Data<AppState>,
    path: web::Path<(BookId, usize, i32)>,
) -> Result<HttpResponse, AppError> {
    let (id, n, v) = path.into_inner();
    Ok(HttpResponse::Ok().json(state.books.restore_version(&user, &id, n, v).await?))
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegenerateBody {
    #[serde(default)]
    instruction: Option<String>,
    #[serde(default)]
    refresh_following: bool,
}

/// The body is optional (older clients send none), but when sent it must be valid JSON.
async fn regenerate(
    ApiUser(user): ApiUser,
    state: web::Data<AppState>,
    path: web::Path<(BookId, usize)>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let (id, n) = path.into_inner();
    let body: RegenerateBody = if body.iter().all(u8::is_ascii_whitespace) {
        RegenerateBody::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| AppError::BadRequest(format!("invalid JSON: {e}")))?
    };
    let req = RegenerateRequest {
        chapter: n,
        instruction: body.instruction,
        refresh_following: body.refresh_following,
    };
    let refresh = req.refresh_following;
    let status = state.books.regenerate(&user, &id, req).await?;
    Ok(HttpResponse::Accepted().json(json!({
        "id": id, "status": status.as_str(), "chapter": n, "refresh_following": refresh,
    })))
}
