//! The cover editor (`/books/{id}/cover`): the preview, the design form (layout, font, texts, colours,
//! the chosen image), the art prompt with its generate button, and the upload of the author's own
//! image; plus the images the pages show (the cover, its thumbnail for the library, the candidates, a
//! live preview of unsaved changes). Thin HTML doors over `crate::books` covers.

use actix_session::SessionExt;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use buko_export::cover::{FontFamily, Template as Layout};
use serde::Deserialize;

use crate::books::{CoverInput, CoverView};
use crate::db::ids::BookId;
use crate::db::repo::books::Book;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::api_v1::covers::{jpeg, read_upload, SizeQuery};
use crate::web::render::{html, see_other};
use crate::web::session::{csrf_matches, CsrfForm, CsrfProtected, CurrentUser, PageCtx};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/books/{id}/cover", web::get().to(editor))
        .route("/books/{id}/cover", web::post().to(save))
        .route("/books/{id}/cover/generate", web::post().to(generate))
        .route("/books/{id}/cover/upload", web::post().to(upload))
        .route("/books/{id}/cover.jpg", web::get().to(image))
        .route("/books/{id}/cover/preview.jpg", web::get().to(preview))
        .route("/books/{id}/cover/art/{art}.jpg", web::get().to(art));
}

#[derive(Template)]
#[template(path = "books/cover.html")]
struct CoverPage {
    page: PageCtx,
    book: Book,
    cover: CoverView,
    layouts: Vec<(&'static str, &'static str)>,
    fonts: Vec<(&'static str, &'static str)>,
}

impl CoverPage {
    fn source_key(&self, source: &str) -> &'static str {
        match source {
            "openai" => "cover.source.openai",
            "upload" => "cover.source.upload",
            _ => "cover.source.offline",
        }
    }
    fn is_art(&self, id: &str) -> bool {
        self.cover.art_id.as_deref() == Some(id)
    }
    fn is_template(&self, value: &str) -> bool {
        self.cover.design.template.as_str() == value
    }
    fn is_font(&self, value: &str) -> bool {
        self.cover.design.font.as_str() == value
    }
}

async fn editor(
    page: PageCtx,
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<BookId>,
) -> Result<HttpResponse, AppError> {
    let book = state.books.get(&user, &id).await?;
    let cover = state.books.cover(&user, &id).await?;
    let layouts = Layout::ALL
        .iter()
        .map(|l| (l.as_str(), layout_key(*l)))
        .collect();
    let fonts = FontFamily::ALL
        .iter()
        .map(|f| (f.as_str(), font_key(*f)))
        .collect();
    html(
        StatusCode::OK,
        &CoverPage {
            page,
            book,
            cover,
            layouts,
            fonts,
        },
    )
}

fn layout_key(l: Layout) -> &'static str {
    match l {
        Layout::Band => "cover.template.band",
        Layout::Framed => "cover.template.framed",
        Layout::Typographic => "cover.template.typographic",
        Layout::Split => "cover.template.split",
    }
}

fn font_key(f: FontFamily) -> &'static str {
    match f {
        FontFamily::Serif => "cover.font.serif",
        FontFamily::Classic => "cover.font.classic",
        FontFamily::Mono => "cover.font.mono",
    }
}

#[derive(Deserialize)]
struct DesignForm {
    csrf_token: String,
    #[serde(flatten)]
    input: CoverInput,
}

impl CsrfProtected for DesignForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

async fn save(
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<BookId>,
    CsrfForm(form): CsrfForm<DesignForm>,
) -> Result<HttpResponse, AppError> {
    state.books.save_cover(&user, &id, &form.input).await?;
    Ok(see_other(&format!("/books/{id}/cover")))
}

#[derive(Deserialize)]
struct GenerateForm {
    csrf_token: String,
    #[serde(default)]
    prompt: String,
}

impl CsrfProtected for GenerateForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

async fn generate(
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<BookId>,
    CsrfForm(form): CsrfForm<GenerateForm>,
) -> Result<HttpResponse, AppError> {
    state
        .books
        .generate_cover_art(&user, &id, Some(&form.prompt))
        .await?;
    Ok(see_other(&format!("/books/{id}/cover")))
}

#[derive(Deserialize)]
struct UploadQuery {
    csrf_token: String,
}

/// The page's script sends the chosen file as the raw body (no multipart), with the CSRF token.
async fn upload(
    req: HttpRequest,
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<BookId>,
    q: web::Query<UploadQuery>,
    payload: web::Payload,
) -> Result<HttpResponse, AppError> {
    if !csrf_matches(&req.get_session(), &q.csrf_token) {
        return Err(AppError::Csrf);
    }
    let body = read_upload(payload).await?;
    let view = state.books.upload_cover_art(&user, &id, body).await?;
    Ok(HttpResponse::Ok().json(view))
}

async fn image(
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<BookId>,
    q: web::Query<SizeQuery>,
) -> Result<HttpResponse, AppError> {
    let thumb = q.size.as_deref() == Some("thumb");
    let (bytes, version) = state.books.cover_image(&user, &id, thumb).await?;
    Ok(jpeg(bytes, Some(format!("\"cover-{version}\""))))
}

async fn preview(
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<BookId>,
    q: web::Query<CoverInput>,
) -> Result<HttpResponse, AppError> {
    Ok(jpeg(state.books.preview_cover(&user, &id, &q).await?, None))
}

async fn art(
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<(BookId, String)>,
    q: web::Query<SizeQuery>,
) -> Result<HttpResponse, AppError> {
    let (id, art) = path.into_inner();
    let thumb = q.size.as_deref() == Some("thumb");
    Ok(jpeg(
        state.books.cover_art_image(&user, &id, &art, thumb).await?,
        None,
    ))
}
