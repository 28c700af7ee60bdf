//! `/settings`: the account's language and its API keys (create — the key is shown once —, list by
//! prefix with last use, revoke).

use actix_web::http::StatusCode;
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
        .route("/settings/keys", web::post().to(create_key))
        .route("/settings/keys/{prefix}/revoke", web::post().to(revoke_key));
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    page: PageCtx,
    keys: Vec<ApiKey>,
    new_key: Option<String>,
}

async fn render(
    state: &AppState,
    page: PageCtx,
    user_id: String,
    new_key: Option<String>,
) -> Result<HttpResponse, AppError> {
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
        },
    )
}

async fn settings(
    page: PageCtx,
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    render(&state, page, user.id, None).await
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

/// Creates a key and shows it on this response only (never stored in clear, never redirected with).
async fn create_key(
    page: PageCtx,
    CurrentUser(user): CurrentUser,
    state: web::Data<AppState>,
    CsrfForm(form): CsrfForm<KeyForm>,
) -> Result<HttpResponse, AppError> {
    let uid = user.id.clone();
    let (key, _) = db::run(&state.db, move |c| {
        repo::api_keys::create(c, &uid, &form.name)
    })
    .await?;
    render(&state, page, user.id, Some(key.expose().to_string())).await
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
