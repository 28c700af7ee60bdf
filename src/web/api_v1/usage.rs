//! `GET /api/v1/usage`: what the key's user has consumed (tokens, cost, books) and what is left (plan
//! quotas this hour, and the key's own per-minute limit).

use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use serde_json::json;

use super::ApiUser;
use crate::db::{self, models::ApiKey, repo};
use crate::error::AppError;
use crate::limits::quota::{self, Quota};
use crate::limits::{api_key, PlanLimits};
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/usage", web::get().to(usage));
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
    let plan = PlanLimits::for_plan(&user.plan);
    let limiter = state.limiter.as_ref();
    Ok(HttpResponse::Ok().json(json!({
        "plan": user.plan,
        "books": books,
        "tokens": {"input": input, "output": output, "total": input + output},
        "cost_usd": cost,
        "limits": {
            "architectures_per_hour": plan.architectures_per_hour,
            "architectures_remaining": quota::remaining(limiter, &user, Quota::Architecture).await,
            "books_per_hour": plan.books_per_hour,
            "books_remaining": quota::remaining(limiter, &user, Quota::Book).await,
            "api_key": {
                "prefix": key.prefix,
                "requests_per_minute": api_key::limit_of(&state, &key),
                "requests_remaining": api_key::remaining(&state, &key).await,
            },
        },
    })))
}
