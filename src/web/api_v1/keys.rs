//! `/api/v1/keys`: create (the key is in this response only), list by prefix, revoke.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::ApiUser;
use crate::db::{self, repo};
use crate::error::AppError;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/keys", web::post().to(create))
        .route("/keys", web::get().to(list))
        .route("/keys/{prefix}", web::delete().to(revoke));
}

#[derive(Deserialize)]
struct NewKey {
    #[serde(default)]
    name: String,
}

async fn create(
    ApiUser(user): ApiUser,
    state: web::Data<AppState>,
    body: web::Json<NewKey>,
) -> Result<HttpResponse, AppError> {
    let name = body.into_inner().name;
    if name.chars().count() > 100 {
        return Err(AppError::Validation(
            "the name is longer than 100 characters".into(),
        ));
    }
    let (key, row) = db::run(&state.db, move |c| {
        repo::api_keys::create(c, &user.id, &name)
    })
    .await?;
    Ok(HttpResponse::Created().json(json!({
        "key": key.expose(),
        "prefix": row.prefix,
        "name": row.name,
    })))
}

async fn list(
    ApiUser(user): ApiUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let keys = db::run(&state.db, move |c| {
        repo::api_keys::list_for_user(c, &user.id)
    })
    .await?;
    let out: Vec<_> = keys
        .into_iter()
        .map(|k| {
            json!({
                "prefix": k.prefix,
                "name": k.name,
                "created_at": k.created_at.and_utc(),
                "last_used_at": k.last_used_at.map(|t| t.and_utc()),
                "revoked": k.revoked_at.is_some(),
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(out))
}

async fn revoke(
    ApiUser(user): ApiUser,
    state: web::Data<AppState>,
    prefix: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let found = db::run(&state.db, move |c| {
        repo::api_keys::revoke(c, &user.id, &prefix)
    })
    .await?;
    if found {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(AppError::NotFound)
    }
}
