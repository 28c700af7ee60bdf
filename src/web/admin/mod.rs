//! The admin panel (`/admin/...`): server-rendered pages for users with role `admin`. Anonymous visitors
//! are sent to the login page (401 → redirect), signed-in non-admins get 403. Every action is a POST
//! with the session's CSRF token and is written to the audit log with who, what, target and IP.

pub mod audit;
pub mod broadcast;
pub mod dashboard;
pub mod generations;
pub mod users;

use std::future::Future;
use std::pin::Pin;

use actix_session::SessionExt;
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use serde::Deserialize;

use crate::db::{self, models::User, repo};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::session::{app_state, session_user, CsrfProtected};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/admin")
            .configure(dashboard::routes)
            .configure(users::routes)
            .configure(generations::routes)
            .configure(broadcast::routes)
            .configure(audit::routes),
    );
}

/// Extractor: the signed-in admin; `401` when nobody is signed in, `403` for anyone else.
pub struct RequireAdmin(pub User);

impl FromRequest for RequireAdmin {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = app_state(&req)?;
            match session_user(&state, &req.get_session()).await? {
                Some(u) if u.is_admin() => Ok(RequireAdmin(u)),
                Some(_) => Err(AppError::Forbidden("administrators only".into())),
                None => Err(AppError::Unauthorized),
            }
        })
    }
}

/// A form that carries nothing but the CSRF token (most admin actions).
#[derive(Deserialize)]
pub struct ActionForm {
    csrf_token: String,
}

impl CsrfProtected for ActionForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// The client address as the socket saw it (a proxy's forwarded header is not trusted here).
pub fn client_ip(req: &HttpRequest) -> String {
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default()
}

/// Writes one audit entry for an admin action.
pub async fn audit(
    state: &AppState,
    admin: &User,
    req: &HttpRequest,
    action: &'static str,
    target: (&'static str, String),
    detail: serde_json::Value,
) -> Result<(), AppError> {
    let (actor, ip) = (admin.id.clone(), client_ip(req));
    db::run(&state.db, move |c| {
        repo::audit::record(c, Some(&actor), action, (target.0, &target.1), detail, &ip)
    })
    .await?;
    log::info!(target: "buko::admin", actor = admin.id.as_str(), action = action; "admin action");
    Ok(())
}
