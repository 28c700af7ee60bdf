//! REST API v1 (SPEC "REST API v1"): JSON in and out, authenticated by the `X-API-Key` header. A missing,
//! unknown or revoked key is `401`; another user's book is `404`; errors are `{error, message}`.

pub mod audit;
pub mod billing;
pub mod books;
pub mod chapters;
pub mod covers;
pub mod keys;
pub mod openapi;
pub mod usage;

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};

use crate::db::{self, models::User, repo};
use crate::error::AppError;
use crate::web::session::app_state;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1")
            .configure(books::routes)
            .configure(audit::routes)
            .configure(billing::routes)
            .configure(chapters::routes)
            .configure(covers::routes)
            .configure(keys::routes)
            .configure(usage::routes)
            .configure(openapi::routes),
    );
}

/// Extractor: the user owning the request's `X-API-Key`.
pub struct ApiUser(pub User);

impl FromRequest for ApiUser {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = app_state(&req)?;
            let key = req
                .headers()
                .get("x-api-key")
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .ok_or(AppError::Unauthorized)?;
            let found = db::run(&state.db, move |c| repo::api_keys::authenticate(c, &key)).await?;
            let (key, user) = found.ok_or(AppError::Unauthorized)?;
            crate::limits::api_key::check_api_key(&state, &key).await?;
            // Handlers that report on the key itself (`/usage`) read it from the extensions.
            req.extensions_mut().insert(key);
            Ok(ApiUser(user))
        })
    }
}
