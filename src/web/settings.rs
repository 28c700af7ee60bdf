//! `/settings`: the account's language, the author's display name (printed on exports), its API keys
//! (create — redirected to `/settings`, which shows the new key once, `no-store` —, list by prefix with
//! last use, revoke after a confirmation) and its sign-in sessions (list, end one, end all).

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::db::{self, models::ApiKey, models::SessionRow, repo};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::books::review::PlainForm;
use crate::web::render::{html, see_other};
use crate::web::session::{session_id, CsrfForm, CsrfProtected, CurrentUser, PageCtx};
use buko_lang::Language;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings", web::get().to(settings))
        .route("/settings/language", web::post().to(language))
        .route("/settings/author", web::post().to(author))
        .route("/settings/keys", web::post().to(create_key))
        .route("/settings/keys/{prefix}/revoke", web::post().to(revoke_key))
        .route("/settings/sessions/{id}/end", web::post().to(end_session));
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    page: PageCtx,
    keys: Vec<ApiKey>,
    new_key: Option<String>,
    display_name: String,
    sessions: Vec<SessionRow>,
    /// This browser's session id (marked in the list).
    current: Option<String>,
}

/// Session key of a just-created API key, shown by the next `GET /settings` and removed there.
const NEW_KEY: &str = "new_api_key";

async fn render(
    state: &AppState,
    page: PageCtx,
    session: &Session,
    user_id: String,
    new_key: Option<String>,
) -> Result<HttpResponse, AppError> {
    let display_name = page
        .user
        .as_ref()
        .map(|u| u.display_name.clone())
        .unwrap_or_default();
    let sessions = crate::sessions::list(state, &user_id).await?;
    let keys = db::run(&state.db, move |c| {
        repo::api_keys::list_for_user(c, &user_id)
    })
    .await?;
    let mut res = html(
        StatusCode::OK,
        &SettingsPage {
            page,
            keys,
            new_key,
            display_name,
            sessions,
            current: session_id(session),
        },
    )?;
    // Shows a key or session ids: never kept by a cache (set here too, not only by the middleware).
    res.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("no-store"),
    );
    Ok(res)
}

async fn settings(
    page: PageCtx,
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, AppError> {
    let new_key = session.remove_as::<String>(NEW_KEY).and_then(Result::ok);
    render(&state, page, &session, user.id.into(), new_key).await
}

#[derive(Deserialize)]
pub struct AuthorForm {
    csrf_token: String,
    #[serde(default)]
    display_name: String,
}

impl CsrfProtected for AuthorForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// The name printed as the author of the user's books (a book's pen name overrides it).
async fn author(
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<AuthorForm>,
) -> Result<HttpResponse, AppError> {
    let name = crate::books::validate_display_name(&form.display_name)?;
    let uid = user.id.clone();
    db::run(&state.db, move |c| {
        repo::users::set_display_name(c, &uid, &name)
    })
    .await?;
    state.sessions.forget_user(&user.id);
    Ok(see_other("/settings"))
}

#[derive(Deserialize)]
pub struct LanguageForm {
    csrf_token: String,
    lang: String,
}

impl CsrfProtected for LanguageForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

async fn language(
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<LanguageForm>,
) -> Result<HttpResponse, AppError> {
    let locale = Language::parse(&form.lang)
        .ok_or_else(|| AppError::Validation("unknown language; use en or es".into()))?;
    let uid = user.id.clone();
    db::run(&state.db, move |c| {
        repo::users::set_locale(c, &uid, locale.code())
    })
    .await?;
    state.sessions.forget_user(&user.id);
    Ok(see_other("/settings"))
}

#[derive(Deserialize)]
pub struct KeyForm {
    csrf_token: String,
    #[serde(default)]
    name: String,
}

impl CsrfProtected for KeyForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// Creates a key, then redirects (a reload must not create a second one); the key rides once in the
/// encrypted session cookie to the next `GET /settings`, which shows it and forgets it.
async fn create_key(
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    CsrfForm(form): CsrfForm<KeyForm>,
) -> Result<HttpResponse, AppError> {
    let uid = user.id.clone();
    let (key, _) = db::run(&state.db, move |c| {
        repo::api_keys::create(c, &uid, &form.name)
    })
    .await?;
    session
        .insert(NEW_KEY, key.expose())
        .map_err(AppError::internal)?;
    Ok(see_other("/settings"))
}

async fn revoke_key(
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
    prefix: web::Path<String>,
    _form: CsrfForm<PlainForm>,
) -> Result<HttpResponse, AppError> {
    let found = db::run(&state.db, move |c| {
        repo::api_keys::revoke(c, &user.id, &prefix)
    })
    .await?;
    if !found {
        return Err(AppError::NotFound);
    }
    Ok(see_other("/settings"))
}

/// Ends one of the user's sessions (another browser, or this one).
async fn end_session(
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
    session: Session,
    id: web::Path<String>,
    _form: CsrfForm<PlainForm>,
) -> Result<HttpResponse, AppError> {
    if !crate::sessions::end(&state, &id, Some(&user.id)).await? {
        return Err(AppError::NotFound);
    }
    if session_id(&session).as_deref() == Some(id.as_str()) {
        session.purge();
        return Ok(see_other("/"));
    }
    Ok(see_other("/settings"))
}
