//! `/settings`: the account's language, the author's display name (printed on exports), and its API
//! keys (create — redirected to `/settings`, which shows the new key once, `no-store` —, list by
//! prefix with last use, revoke after a confirmation).

use actix_session::Session;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::db::{self, models::ApiKey, repo};
use crate::error::AppError;
use crate::i18n::Locale;
use crate::state::AppState;
use crate::web::books::review::PlainForm;
use crate::web::render::{html, see_other};
use crate::web::session::{CsrfForm, CsrfProtected, CurrentUser, PageCtx};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/settings", web::get().to(settings))
        .route("/settings/language", web::post().to(language))
        .route("/settings/author", web::post().to(author))
        .route("/settings/keys", web::post().to(create_key))
        .route("/settings/keys/{prefix}/revoke", web::post().to(revoke_key));
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    page: PageCtx,
    keys: Vec<ApiKey>,
    new_key: Option<String>,
    display_name: String,
}

/// Session key of a just-created API key, shown by the next `GET /settings` and removed there.
const NEW_KEY: &str = "new_api_key";

async fn render(
    state: &AppState,
    page: PageCtx,
    user_id: String,
    new_key: Option<String>,
) -> Result<HttpResponse, AppError> {
    let display_name = page
        .user
        .as_ref()
        .map(|u| u.display_name.clone())
        .unwrap_or_default();
    let keys = db::run(&state.db, move |c| {
        repo::api_keys::list_for_user(c, &user_id)
    })
    .await?;
    html(
        StatusCode::OK,
        &SettingsPage {
            page,
            keys,
            new_key,
            display_name,
        },
    )
}

async fn settings(
    page: PageCtx,
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
    session: Session,
) -> Result<HttpResponse, AppError> {
    let new_key = session.remove_as::<String>(NEW_KEY).and_then(Result::ok);
    let mut res = render(&state, page, user.id, new_key).await?;
    // The page may carry a key in clear: never cached, and a reload no longer shows it.
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    Ok(res)
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
    db::run(&state.db, move |c| {
        repo::users::set_display_name(c, &user.id, &name)
    })
    .await?;
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
    let locale = Locale::parse(&form.lang)
        .ok_or_else(|| AppError::Validation("unknown language; use en or es".into()))?;
    db::run(&state.db, move |c| {
        repo::users::set_locale(c, &user.id, locale.code())
    })
    .await?;
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
