//! Register, log in, log out, and the language switch. Passwords are hashed with argon2id off the async
//! reactor; failed logins are counted per account and lock it for a while after too many.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use askama::Template;
use serde::Deserialize;

use crate::db::{self, models::ROLE_USER, repo};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::render::{html, see_other};
use crate::web::session::{self as sess, CsrfForm, CsrfProtected, PageCtx};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/register", web::get().to(register_page))
        .route("/register", web::post().to(register))
        .route("/login", web::get().to(login_page))
        .route("/login", web::post().to(login))
        .route("/logout", web::post().to(logout))
        .route("/logout-everywhere", web::post().to(logout_everywhere))
        .route("/language", web::post().to(set_language));
}

#[derive(Template)]
#[template(path = "auth/register.html")]
struct RegisterPage {
    page: PageCtx,
    error: Option<&'static str>,
    email: String,
}

#[derive(Template)]
#[template(path = "auth/login.html")]
struct LoginPage {
    page: PageCtx,
    error: Option<&'static str>,
    email: String,
    next: String,
}

#[derive(Deserialize)]
pub struct CredentialsForm {
    csrf_token: String,
    email: String,
    password: String,
    #[serde(default)]
    next: String,
}

impl CsrfProtected for CredentialsForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

#[derive(Deserialize)]
pub struct NextQuery {
    #[serde(default)]
    next: String,
}

async fn register_page(page: PageCtx) -> Result<HttpResponse, AppError> {
    if page.user.is_some() {
        return Ok(see_other("/books"));
    }
    html(
        StatusCode::OK,
        &RegisterPage {
            page,
            error: None,
            email: String::new(),
        },
    )
}

pub fn valid_email(email: &str) -> bool {
    let email = email.trim();
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}

pub fn strong_enough(password: &str, email: &str) -> bool {
    let n = password.chars().count();
    (10..=256).contains(&n)
        && !password.eq_ignore_ascii_case(email.trim())
        && password
            .chars()
            .any(|c| c != password.chars().next().unwrap_or(' '))
}

/// Argon2id hash in PHC format (run on the blocking pool: it costs tens of milliseconds by design).
pub async fn hash_password(password: String) -> Result<String, AppError> {
    web::block(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
    })
    .await
    .map_err(AppError::internal)?
    .map_err(AppError::internal)
}

async fn verify_password(password: String, hash: String) -> Result<bool, AppError> {
    web::block(move || {
        let parsed = PasswordHash::new(&hash).map_err(|e| e.to_string())?;
        Ok::<bool, String>(
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
        )
    })
    .await
    .map_err(AppError::internal)?
    .map_err(AppError::internal)
}

async fn register(
    state: web::Data<AppState>,
    page: PageCtx,
    session: Session,
    CsrfForm(form): CsrfForm<CredentialsForm>,
) -> Result<HttpResponse, AppError> {
    let fail = |page, key, status| {
        html(
            status,
            &RegisterPage {
                page,
                error: Some(key),
                email: form.email.trim().to_string(),
            },
        )
    };
    if !state.settings.registration_open {
        return fail(page, "auth.registration_closed", StatusCode::FORBIDDEN);
    }
    if !valid_email(&form.email) {
        return fail(page, "auth.invalid_email", StatusCode::UNPROCESSABLE_ENTITY);
    }
    if !strong_enough(&form.password, &form.email) {
        return fail(page, "auth.weak_password", StatusCode::UNPROCESSABLE_ENTITY);
    }
    let password_hash = hash_password(form.password.clone()).await?;
    let email = form.email.clone();
    let locale = page.lang;
    let created = db::run(&state.db, move |c| {
        repo::users::create(
            c,
            repo::users::NewUser {
                email: &email,
                password_hash,
                role: ROLE_USER,
                locale: Some(locale),
            },
        )
    })
    .await;
    match created {
        Ok(user) => {
            start_session(&session, &user.id, user.session_version)?;
            Ok(see_other("/books"))
        }
        Err(e) if e.is_unique_violation() => fail(page, "auth.email_taken", StatusCode::CONFLICT),
        Err(e) => Err(e.into()),
    }
}

fn start_session(session: &Session, user_id: &str, version: i32) -> Result<(), AppError> {
    // A fresh session id and CSRF token at every privilege change (no session fixation).
    session.renew();
    session.remove(sess::KEY_CSRF);
    session
        .insert(sess::KEY_USER, user_id)
        .map_err(AppError::internal)?;
    session
        .insert(sess::KEY_VERSION, version)
        .map_err(AppError::internal)?;
    Ok(())
}

async fn login_page(page: PageCtx, q: web::Query<NextQuery>) -> Result<HttpResponse, AppError> {
    if page.user.is_some() {
        return Ok(see_other(&safe_next(&q.next)));
    }
    html(
        StatusCode::OK,
        &LoginPage {
            page,
            error: None,
            email: String::new(),
            next: q.next.clone(),
        },
    )
}

/// Only same-site relative paths are followed after login (no open redirect).
pub fn safe_next(next: &str) -> String {
    if next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.contains("://")
    {
        next.to_string()
    } else {
        "/books".to_string()
    }
}

async fn login(
    state: web::Data<AppState>,
    page: PageCtx,
    session: Session,
    CsrfForm(form): CsrfForm<CredentialsForm>,
) -> Result<HttpResponse, AppError> {
    let fail = |page, key, status| {
        html(
            status,
            &LoginPage {
                page,
                error: Some(key),
                email: form.email.trim().to_string(),
                next: form.next.clone(),
            },
        )
    };
    let email = form.email.clone();
    let user = db::run(&state.db, move |c| repo::users::find_by_email(c, &email)).await?;
    let Some(user) = user else {
        // Same work as a real check, so timing does not reveal which e-mails exist.
        let _ = verify_password(form.password.clone(), DUMMY_HASH.to_string()).await;
        return fail(page, "auth.invalid_credentials", StatusCode::UNAUTHORIZED);
    };
    let now = db::now();
    if user.locked_until.is_some_and(|t| t > now) {
        return fail(page, "auth.locked", StatusCode::TOO_MANY_REQUESTS);
    }
    if !verify_password(form.password.clone(), user.password_hash.clone()).await? {
        let (id, max) = (user.id.clone(), state.settings.login_max_failures);
        let until = now + chrono::Duration::seconds(state.settings.login_lockout_secs);
        db::run(&state.db, move |c| {
            repo::users::record_failed_login(c, &id, max, until)
        })
        .await?;
        log::warn!(target: "buko::auth", user_id = user.id.as_str(); "failed login");
        return fail(page, "auth.invalid_credentials", StatusCode::UNAUTHORIZED);
    }
    if user.disabled {
        return fail(page, "auth.disabled", StatusCode::FORBIDDEN);
    }
    let id = user.id.clone();
    db::run(&state.db, move |c| {
        repo::users::record_successful_login(c, &id)
    })
    .await?;
    start_session(&session, &user.id, user.session_version)?;
    Ok(see_other(&safe_next(&form.next)))
}

/// An argon2id hash of a random string, verified against when the e-mail is unknown.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$W2hOQ6+vQr8qD0mK7qfGk2mXo8oG7a6Fv4y2uK1Zq5U";

#[derive(Deserialize)]
pub struct CsrfOnlyForm {
    csrf_token: String,
}

impl CsrfProtected for CsrfOnlyForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

async fn logout(session: Session, _form: CsrfForm<CsrfOnlyForm>) -> HttpResponse {
    session.purge();
    see_other("/")
}

/// Ends every session of the signed-in user: cookies issued before stop working on every node (the
/// user's `session_version` moves on), and their live WebSocket sessions are closed.
async fn logout_everywhere(
    state: web::Data<AppState>,
    session: Session,
    sess::CurrentUser(user): sess::CurrentUser,
    _form: CsrfForm<CsrfOnlyForm>,
) -> Result<HttpResponse, AppError> {
    let id = user.id.clone();
    db::run(&state.db, move |c| repo::users::revoke_sessions(c, &id)).await?;
    crate::admin::control::disconnect_user(&state, &user.id).await;
    log::info!(target: "buko::auth", user_id = user.id.as_str(); "logged out everywhere");
    session.purge();
    Ok(see_other("/"))
}

#[derive(Deserialize)]
pub struct LanguageForm {
    csrf_token: String,
    lang: String,
    #[serde(default)]
    next: String,
}

impl CsrfProtected for LanguageForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

async fn set_language(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    CsrfForm(form): CsrfForm<LanguageForm>,
) -> Result<HttpResponse, AppError> {
    let locale = crate::i18n::Locale::parse(&form.lang)
        .ok_or_else(|| AppError::Validation("unknown language; use en or es".into()))?;
    session
        .insert(sess::KEY_LANG, locale.code())
        .map_err(AppError::internal)?;
    if let Some(user) = sess::session_user(&state, &req_session(&req)).await? {
        db::run(&state.db, move |c| {
            repo::users::set_locale(c, &user.id, locale.code())
        })
        .await?;
    }
    Ok(see_other(&safe_next(&form.next)))
}

fn req_session(req: &HttpRequest) -> Session {
    actix_session::SessionExt::get_session(req)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_and_password_rules() {
        assert!(valid_email("a@b.co"));
        assert!(!valid_email("a@b"));
        assert!(!valid_email("a b@c.de"));
        assert!(strong_enough("correct horse", "a@b.co"));
        assert!(!strong_enough("short", "a@b.co"));
        assert!(!strong_enough("aaaaaaaaaaaa", "a@b.co"));
    }

    #[test]
    fn next_is_never_an_open_redirect() {
        assert_eq!(safe_next("/books/1"), "/books/1");
        assert_eq!(safe_next("//evil.com"), "/books");
        assert_eq!(safe_next("https://evil.com"), "/books");
        assert_eq!(safe_next("/\\evil.com"), "/books");
    }
}
