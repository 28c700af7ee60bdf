//! `/api/v1/books/{id}/cover…`: the book's cover as an image (`GET`, `?size=thumb` for the thumbnail),
//! an upload of the author's own art (`PUT`, the raw image as the body), an art generation (`POST
//! …/generate` `{prompt?}`: 202, a job), the editor's state and design (`GET`/`PUT …/design`) and the
//! candidates' images. A thin JSON door over `crate::books` covers, the same use cases the editor page
//! calls.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::ApiUser;
use crate::books::CoverInput;
use crate::db::ids::BookId;
use crate::error::AppError;
use crate::state::AppState;

/// Largest request body the upload reads (a larger one is 413 before it is read).
pub const MAX_UPLOAD_BODY: usize = buko_export::cover::decode::MAX_IMAGE_BYTES;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/books/{id}/cover", web::get().to(image))
        .route("/books/{id}/cover", web::put().to(upload))
        .route("/books/{id}/cover/generate", web::post().to(generate))
        .route("/books/{id}/cover/design", web::get().to(design))
        .route("/books/{id}/cover/design", web::put().to(save_design))
        .route("/books/{id}/cover/art/{art}", web::get().to(art));
}

#[derive(Deserialize)]
pub struct SizeQuery {
    #[serde(default)]
    pub size: Option<String>,
}

/// A JPEG we encoded, private to its owner; `version` makes the ETag.
pub fn jpeg(bytes: Vec<u8>, etag: Option<String>) -> HttpResponse {
    let mut r = HttpResponse::Ok();
    r.content_type("image/jpeg")
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            "inline; filename=\"cover.jpg\"",
        ));
    if let Some(tag) = etag {
        r.insert_header((header::ETAG, tag));
    }
    r.body(bytes)
}

async fn image(
    ApiUser(user): ApiUser,
    state: web::Data<AppState>,
    id: web::Path<BookId>,
    q: web::Query<SizeQuery>,
) -> Result<HttpResponse, AppError> {
    let thumb = q.size.as_deref() == Some("thumb");
    let (bytes, version) = state.books.cover_image(&user, &id, thumb).await?;
    Ok(jpeg(bytes, Some(format!("\"cover-{version}\""))))
}

/// Reads an upload's body, refusing it (413) as soon as it passes the limit.
pub async fn read_upload(mut payload: web::Payload) -> Result<Vec<u8>, AppError> {
    use futures_util::StreamExt as _;
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| AppError::BadRequest(format!("reading the upload: {e}")))?;
        if body.len() + chunk.len() > MAX_UPLOAD_BODY {
            return Err(AppError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    if body.is_empty() {
        return Err(AppError::BadRequest(
            "the body must be a JPEG, PNG or WebP image".into(),
        ));
    }
    Ok(body)
}

async fn upload(
    ApiUser(user): ApiUser,
    state: web::Data<AppState>,
    id: web::Path<BookId>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    let body = read_upload(payload).await?;
    let view = state.books.upload_cover_art(&user, &id, body).await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct GenerateBody {
    #[serde(default)]
    prompt: Option<String>,
}

/// The body is optional; when sent it must be valid JSON.
async fn generate(
    ApiUser(user): ApiUser,
    state: web::Data<AppState>,
    id: web::Path<BookId>,
    body: web::Bytes,
) -> Result<HttpResponse, AppError> {
    let body: GenerateBody = if body.iter().all(u8::is_ascii_whitespace) {
        GenerateBody::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| AppError::BadRequest(format!("invalid JSON: {e}")))?
    };
    let view = state
        .books
        .generate_cover_art(&user, &id, body.prompt.as_deref())
        .await?;
    Ok(HttpResponse::Accepted().json(view))
}

async fn design(
    ApiUser(user): ApiUser,
    state: web::Data<AppState>,
    id: web::Path<BookId>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(state.books.cover(&user, &id).await?))
}

async fn save_design(
    ApiUser(user): ApiUser,
    state: web::Data<AppState>,
    id: web::Path<BookId>,
    body: web::Json<CoverInput>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(state.books.save_cover(&user, &id, &body).await?))
}

async fn art(
    ApiUser(user): ApiUser,
    state: web::Data<AppState>,
    path: web::Path<(BookId, String)>,
    q: web::Query<SizeQuery>,
) -> Result<HttpResponse, AppError> {
    let (id, art) = path.into_inner();
    let thumb = q.size.as_deref() == Some("thumb");
    let bytes = state.books.cover_art_image(&user, &id, &art, thumb).await?;
    Ok(jpeg(bytes, None))
}
