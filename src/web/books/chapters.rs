//! The chapter editor, reached from the reader: edit the text by hand (`static/editor.js` autosaves
//! through the same form post and shows "Saved"), see the versions, compare one with the current text,
//! restore it, and regenerate the chapter with an optional instruction. Thin HTML doors over
//! `crate::books` (the API's use cases); without JavaScript every action is a plain form.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use serde_json::json;

use super::review::PlainForm;
use crate::books::{BookError, ChapterHistory, RegenerateRequest, MAX_CHAPTER_CHARS};
use crate::db::ids::BookId;
use crate::db::models::User;
use crate::db::repo::books::versions::ChapterVersion;
use crate::db::repo::books::Book;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::render::{html, see_other};
use crate::web::session::{CsrfForm, CsrfProtected, CurrentUser, PageCtx};

mod compare;
use compare::{diff_paragraphs, Change};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        // A chapter is longer than the app's default form limit.
        web::resource("/books/{id}/chapters/{n}/edit")
            .app_data(
                web::FormConfig::default()
                    .limit(1024 * 1024)
                    .error_handler(|e, _| crate::web::session::form_error(&e.into()).into()),
            )
            .route(web::get().to(editor))
            .route(web::post().to(save)),
    )
    .route(
        "/books/{id}/chapters/{n}/versions/{v}",
        web::get().to(compare),
    )
    .route(
        "/books/{id}/chapters/{n}/versions/{v}/restore",
        web::post().to(restore),
    )
    .route(
        "/books/{id}/chapters/{n}/regenerate",
        web::post().to(regenerate),
    );
}

#[derive(Template)]
#[template(path = "books/chapter_edit.html")]
struct EditorPage {
    page: PageCtx,
    book: Book,
    n: usize,
    history: ChapterHistory,
    /// What the textarea shows: the current text, or what the author typed when saving failed.
    content: String,
    error: Option<&'static str>,
    saved: bool,
    can_edit: bool,
    can_regenerate: bool,
    max_chars: usize,
}

impl EditorPage {
    fn kind_key(kind: &str) -> &'static str {
        kind_key(kind)
    }
    fn when(&self, t: &chrono::NaiveDateTime) -> String {
        t.format("%Y-%m-%d %H:%M UTC").to_string()
    }
}

pub fn kind_key(kind: &str) -> &'static str {
    match kind {
        "edit" => "versions.kind_edit",
        "regenerate" => "versions.kind_regenerate",
        "restore" => "versions.kind_restore",
        _ => "versions.kind_original",
    }
}

#[allow(clippy::too_many_arguments)] // a page's inputs, each distinct; a struct would only rename them
async fn render_editor(
    state: &AppState,
    page: PageCtx,
    user: &User,
    id: &BookId,
    n: usize,
    typed: Option<String>,
    error: Option<&'static str>,
    saved: bool,
) -> Result<HttpResponse, AppError> {
    let book = state.books.get(user, id).await?;
    let history = state.books.chapter_history(user, id, n).await?;
    let status = book.status();
    let can_edit = crate::db::repo::books::versions::EDITABLE.contains(&status)
        && !history.current.content.is_empty();
    let can_regenerate = matches!(
        status,
        buko_actors::BookStatus::Completed
            | buko_actors::BookStatus::Paused
            | buko_actors::BookStatus::Failed
    );
    let code = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    html(
        code,
        &EditorPage {
            page,
            content: typed.unwrap_or_else(|| history.current.content.clone()),
            book,
            n,
            history,
            error,
            saved,
            can_edit,
            can_regenerate,
            max_chars: MAX_CHAPTER_CHARS,
        },
    )
}

#[derive(Deserialize)]
struct EditorQuery {
    #[serde(default)]
    saved: Option<String>,
}

async fn editor(
    page: PageCtx,
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<(BookId, usize)>,
    q: web::Query<EditorQuery>,
) -> Result<HttpResponse, AppError> {
    let (id, n) = path.into_inner();
    let saved = q.saved.is_some();
    render_editor(&state, page, &user, &id, n, None, None, saved).await
}

#[derive(Deserialize)]
struct SaveForm {
    csrf_token: String,
    content: String,
}

impl CsrfProtected for SaveForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// The author's refusal reasons in their language; anything else goes to the error page.
fn edit_error_key(e: &BookError, content: &str) -> Option<&'static str> {
    match e {
        BookError::Invalid { .. } if content.trim().is_empty() => Some("editor.empty"),
        BookError::Invalid { .. } => Some("editor.too_long"),
        BookError::WrongStatus { .. } => Some("editor.busy"),
        _ => None,
    }
}

/// `editor.js` asks for JSON (`Accept: application/json`); a plain form post gets a page.
fn wants_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

async fn save(
    req: HttpRequest,
    page: PageCtx,
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<(BookId, usize)>,
    CsrfForm(form): CsrfForm<SaveForm>,
) -> Result<HttpResponse, AppError> {
    let (id, n) = path.into_inner();
    let result = state.books.edit_chapter(&user, &id, n, &form.content).await;
    let json = wants_json(&req);
    match result {
        Ok(saved) if json => Ok(HttpResponse::Ok().json(json!({
            "saved": true, "words": saved.words, "message": page.t.get("editor.saved"),
        }))),
        Ok(_) => Ok(see_other(&format!("/books/{id}/chapters/{n}/edit?saved=1"))),
        Err(e) => match edit_error_key(&e, &form.content) {
            Some(key) if json => Ok(HttpResponse::UnprocessableEntity()
                .json(json!({"saved": false, "message": page.t.get(key)}))),
            Some(key) => {
                render_editor(
                    &state,
                    page,
                    &user,
                    &id,
                    n,
                    Some(form.content),
                    Some(key),
                    false,
                )
                .await
            }
            None => Err(e.into()),
        },
    }
}

#[derive(Template)]
#[template(path = "books/chapter_version.html")]
struct ComparePage {
    page: PageCtx,
    book: Book,
    n: usize,
    title: String,
    version: ChapterVersion,
    changes: Vec<Change>,
    can_restore: bool,
}

impl ComparePage {
    fn kind_key(kind: &str) -> &'static str {
        kind_key(kind)
    }
}

async fn compare(
    page: PageCtx,
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<(BookId, usize, i32)>,
) -> Result<HttpResponse, AppError> {
    let (id, n, v) = path.into_inner();
    let book = state.books.get(&user, &id).await?;
    let history = state.books.chapter_history(&user, &id, n).await?;
    let version = history
        .versions
        .into_iter()
        .find(|x| x.number == v)
        .ok_or(AppError::NotFound)?;
    let changes = diff_paragraphs(&version.content, &history.current.content);
    let can_restore = crate::db::repo::books::versions::EDITABLE.contains(&book.status())
        && !history.current.content.is_empty();
    html(
        StatusCode::OK,
        &ComparePage {
            page,
            book,
            n,
            title: history.current.title,
            version,
            changes,
            can_restore,
        },
    )
}

async fn restore(
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<(BookId, usize, i32)>,
    _form: CsrfForm<PlainForm>,
) -> Result<HttpResponse, AppError> {
    let (id, n, v) = path.into_inner();
    state.books.restore_version(&user, &id, n, v).await?;
    Ok(see_other(&format!("/books/{id}/chapters/{n}/edit?saved=1")))
}

#[derive(Deserialize)]
struct RegenerateForm {
    csrf_token: String,
    #[serde(default)]
    instruction: Option<String>,
    #[serde(default)]
    refresh_following: Option<String>,
}

impl CsrfProtected for RegenerateForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// Queues the rewrite and opens the live view, where it is written.
async fn regenerate(
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<(BookId, usize)>,
    CsrfForm(form): CsrfForm<RegenerateForm>,
) -> Result<HttpResponse, AppError> {
    let (id, n) = path.into_inner();
    let req = RegenerateRequest {
        chapter: n,
        instruction: form.instruction,
        refresh_following: form.refresh_following.is_some(),
    };
    state.books.regenerate(&user, &id, req).await?;
    Ok(see_other(&format!("/books/{id}/live")))
}
