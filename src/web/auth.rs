//! Register, log in, log out, and the language switch. Passwords are hashed with argon2id off the async
//! reactor; checking a sign-in (and its lockout) is `sessions::sign_in`, sessions are `sessions`.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::db::{self, models::ROLE_USER, repo};
use crate::error::AppError;
use crate::sessions::sign_in::{self, SignIn};
use crate::state::AppState;
use crate::web::render::{html, see_other};
use crate::web::safe_next::safe_next;
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

pub use crate::accounts::{hash_password, strong_enough, valid_email, verify_password};

async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
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
            start_session(&state, &req, &session, &user.id).await?;
            Ok(see_other("/books"))
        }
        Err(e) if e.is_unique_violation() => {
            // Answered like a new account (same status, redirect and fresh cookie), so registration
            // cannot tell anyone which e-mails exist; the owner gets a mail about the attempt.
            let email = form.email.clone();
            db::run(&state.db, move |c| {
                if let Some(owner) = repo::users::find_by_email(c, &email)? {
                    crate::queue::jobs::enqueue(
                        c,
                        crate::queue::jobs::NewJob::now(
                            crate::queue::JobPayload::AccountExistsEmail {
                                user_id: owner.id.into(),
                            },
                        ),
                    )?;
                }
                Ok(())
            })
            .await?;
            session.renew();
            session.remove(sess::KEY_CSRF);
            Ok(see_other("/books"))
        }
        Err(e) => Err(e.into()),
    }
}

/// Starts a server-side session for the user and puts its id in a fresh cookie.
async fn start_session(
    state: &AppState,
    req: &HttpRequest,
    session: &Session,
    user_id: &str,
) -> Result<(), AppError> {
    let user_agent = req
        .headers()
        .get(actix_web::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let ip = crate::web::admin::client_ip(req);
    let sid = crate::sessions::start(state, user_id, user_agent, &ip).await?;
    // A fresh cookie and CSRF token at every privilege change (no session fixation).
    session.renew();
    session.remove(sess::KEY_CSRF);
    session
        .insert(sess::KEY_SESSION, sid)
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
            next: safe_next(&q.next),
        },
    )
}

async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
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
                next: safe_next(&form.next),
            },
        )
    };
    match sign_in::check(&state, &form.email, &form.password).await? {
        SignIn::Ok(user) => {
            start_session(&state, &req, &session, &user.id).await?;
            Ok(see_other(&safe_next(&form.next)))
        }
        SignIn::Invalid => {
            log::warn!(target: "buko::auth", "failed login");
            fail(page, "auth.invalid_credentials", StatusCode::UNAUTHORIZED)
        }
        SignIn::Locked => fail(page, "auth.locked", StatusCode::TOO_MANY_REQUESTS),
        SignIn::Disabled => fail(page, "auth.disabled", StatusCode::FORBIDDEN),
    }
}

#[derive(Deserialize)]
pub struct CsrfOnlyForm {
    csrf_token: String,
}

impl CsrfProtected for CsrfOnlyForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// Ends this session: its row is deleted, so the cookie is refused from now on on every node (even if
/// a copy of it was kept), and sockets opened with it close.
async fn logout(
    state: web::Data<AppState>,
    session: Session,
    _form: CsrfForm<CsrfOnlyForm>,
) -> Result<HttpResponse, AppError> {
    if let Some(sid) = sess::session_id(&session) {
        crate::sessions::end(&state, &sid, None).await?;
    }
    session.purge();
    Ok(see_other("/"))
}

/// Ends every session of the signed-in user: their rows are deleted, so cookies issued before stop
/// working on every node, and their live WebSocket sessions are closed.
async fn logout_everywhere(
    state: web::Data<AppState>,
    session: Session,
    sess::CurrentUser(user): sess::CurrentUser,
    _form: CsrfForm<CsrfOnlyForm>,
) -> Result<HttpResponse, AppError> {
    crate::sessions::end_all(&state, &user.id).await?;
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
    let locale = buko_lang::Language::parse(&form.lang)
        .ok_or_else(|| AppError::Validation("unknown language; use en or es".into()))?;
    session
        .insert(sess::KEY_LANG, locale.code())
        .map_err(AppError::internal)?;
    if let Some(user) = sess::session_user(&state, &req_session(&req)).await? {
        let uid = user.id.clone();
        db::run(&state.db, move |c| {
            repo::users::set_locale(c, &uid, locale.code())
        })
        .await?;
        // The next page must read the new language, not this node's cached copy of the user.
        state.sessions.forget_user(&user.id);
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
}
