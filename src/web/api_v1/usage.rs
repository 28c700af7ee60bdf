//! `GET /api/v1/usage`: what the key's user has consumed (tokens, cost, books) and what is left (plan
//! and its quotas — used and left this hour and this month —, and the key's own per-minute limit).
//! `GET /api/v1/usage/history`: the user's history per day, month and book (`analytics::author`, the
//! same as the `/usage` page).

use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use serde_json::json;

use super::ApiUser;
use crate::db::{self, models::ApiKey, repo};
use crate::error::AppError;
use crate::limits::api_key;
use crate::limits::quota::{self, Quota};
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/usage", web::get().to(usage))
        .route("/usage/history", web::get().to(history));
}

async fn history(
    ApiUser(user): ApiUser,
    state: web::Data<AppState>,
    q: web::Query<crate::analytics::Query>,
) -> Result<HttpResponse, AppError> {
    use crate::analytics::{author, Range};
    let (range, tz) = q.parse(&Range::AUTHOR, Range::Month)?;
    let h = db::run(&state.db, move |c| {
        Ok(author::history(c, &user.id, range, tz, chrono::Utc::now()))
    })
    .await??;
    Ok(HttpResponse::Ok().json(h))
}

async fn usage(
    ApiUser(user): ApiUser,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let key = req
        .extensions()
        .get::<ApiKey>()
        .cloned()
        .ok_or_else(|| AppError::internal("API key missing from the request"))?;
    let uid = user.id.clone();
    let (books, input, output, cost) =
        db::run(&state.db, move |c| repo::admin::usage_of(c, &uid)).await?;
    let usage = quota::usage(&state.db, &user).await?;
    let plan = &usage.plan;
    Ok(HttpResponse::Ok().json(json!({
        "plan": plan.id,
        "plan_name": plan.name,
        "books": books,
        "tokens": {"input": input, "output": output, "total": input + output},
        "cost_usd": cost,
        "limits": {
            "architectures_per_hour": plan.architectures_per_hour,
            "architectures_used_this_hour": usage.architectures_used_hour,
            "architectures_remaining": usage.remaining(Quota::Architecture),
            "books_per_hour": plan.books_per_hour,
            "books_used_this_hour": usage.books_used_hour,
            "books_remaining": usage.remaining(Quota::Book),
            "books_per_month": plan.books_per_month,
            "books_used_this_month": usage.books_used_month,
            "books_remaining_this_month": usage.books_left_month(),
            "max_pages": plan.max_pages,
            "api_key": {
                "prefix": key.prefix,
                "requests_per_minute": api_key::limit_of(&state, &key),
                "requests_remaining": api_key::remaining(&state, &key).await,
            },
        },
    })))
}
