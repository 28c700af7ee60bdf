//! Who is asking: the signed-in user from the session cookie, the CSRF token of the session, and the
//! locale. The cookie carries the id of a server-side session (`crate::sessions`); a session that was
//! ended (logout, "log out everywhere", a disabled user) is refused however old the cookie is.

use std::future::Future;
use std::pin::Pin;

use actix_session::{Session, SessionExt};
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use buko_lang::Language;
use rand::RngCore;
use serde::de::DeserializeOwned;

use crate::db::models::User;
use crate::error::AppError;
use crate::i18n::Tr;
use crate::state::AppState;

/// The server-side session's id.
pub const KEY_SESSION: &str = "sid";
pub const KEY_CSRF: &str = "csrf";
pub const KEY_LANG: &str = "lang";

/// The signed-in user, if the session names an active one.
pub async fn session_user(state: &AppState, session: &Session) -> Result<Option<User>, AppError> {
    match session_id(session) {
        Some(sid) => crate::sessions::user_of(state, &sid).await,
        None => Ok(None),
    }
}

/// The id of the server-side session the cookie names, if any.
pub fn session_id(session: &Session) -> Option<String> {
    session.get::<String>(KEY_SESSION).ok().flatten()
}

/// Extractor: the signed-in user or `401` (pages turn that into a redirect to the login page).
pub struct CurrentUser(pub User);

impl FromRequest for CurrentUser {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = app_state(&req)?;
            let session = req.get_session();
            session_user(&state, &session)
                .await?
                .map(CurrentUser)
                .ok_or(AppError::Unauthorized)
        })
    }
}

pub fn app_state(req: &HttpRequest) -> Result<web::Data<AppState>, AppError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError::internal("application state missing"))
}

/// The session's CSRF token, created on first use.
pub fn csrf_token(session: &Session) -> String {
    if let Some(t) = session.get::<String>(KEY_CSRF).ok().flatten() {
        return t;
    }
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    // An insert only fails on serialization, which cannot happen for a String.
    let _ = session.insert(KEY_CSRF, &token);
    token
}

pub fn csrf_matches(session: &Session, presented: &str) -> bool {
    let Some(expected) = session.get::<String>(KEY_CSRF).ok().flatten() else {
        return false;
    };
    expected.len() == presented.len()
        && expected
            .bytes()
            .zip(presented.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// Language for this request: user setting, then the session's choice, then `Accept-Language`.
pub fn locale_for(req: &HttpRequest, user: Option<&User>) -> Language {
    user.and_then(|u| u.locale.as_deref())
        .and_then(Language::parse)
        .or_else(|| {
            req.get_session()
                .get::<String>(KEY_LANG)
                .ok()
                .flatten()
                .as_deref()
                .and_then(Language::parse)
        })
        .or_else(|| {
            req.headers()
                .get("accept-language")
                .and_then(|v| v.to_str().ok())
                .and_then(Language::from_accept_language)
        })
        .unwrap_or_default()
}

/// Forms whose handlers must verify the session's CSRF token.
pub trait CsrfProtected {
    fn csrf_token(&self) -> &str;
}

/// Extractor: a URL-encoded form whose `csrf_token` matches the session's (else `403`).
pub struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned + CsrfProtected + 'static> FromRequest for CsrfForm<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let form = web::Form::<T>::from_request(&req, payload);
        Box::pin(async move {
            // Extraction errors were already mapped by the app's `FormConfig`.
            let form = form.await?.into_inner();
            if !csrf_matches(&req.get_session(), form.csrf_token()) {
                return Err(AppError::Csrf.into());
            }
            Ok(CsrfForm(form))
        })
    }
}

/// Everything the base layout needs; every page template has one.
pub struct PageCtx {
    pub user: Option<User>,
    pub csrf: String,
    pub t: Tr,
    pub lang: &'static str,
    pub path: String,
}

impl PageCtx {
    pub fn is_admin(&self) -> bool {
        self.user.as_ref().is_some_and(User::is_admin)
    }
    /// The signed-in user's display name (printed as the author of their books).
    pub fn user_name(&self) -> &str {
        self.user.as_ref().map_or("", |u| u.display_name.as_str())
    }
    pub fn email(&self) -> &str {
        self.user.as_ref().map_or("", |u| u.email.as_str())
    }
}

impl FromRequest for PageCtx {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = app_state(&req)?;
            let session = req.get_session();
            let user = session_user(&state, &session).await?;
            let locale = locale_for(&req, user.as_ref());
            Ok(PageCtx {
                csrf: csrf_token(&session),
                t: Tr(locale),
                lang: locale.code(),
                path: req.path().to_string(),
                user,
            })
        })
    }
}

/// Maps a form extraction failure to a clear 4xx.
pub fn form_error(e: &actix_web::Error) -> AppError {
    if let Some(fe) = e.as_error::<actix_web::error::UrlencodedError>() {
        return match fe {
            actix_web::error::UrlencodedError::Overflow { .. } => AppError::TooLarge,
            other => AppError::BadRequest(format!("invalid form: {other}")),
        };
    }
    AppError::BadRequest(format!("invalid form: {e}"))
}
