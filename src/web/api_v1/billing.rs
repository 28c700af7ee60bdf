//! `GET /api/v1/billing` (plan, subscription status, renewal, plans on sale) and
//! `POST /api/v1/billing/checkout` `{plan, provider}` → `{redirect_url}`: the same use cases as the
//! `/billing` page (`billing::checkout`).

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::ApiUser;
use crate::billing::checkout::{self, Overview};
use crate::db::repo::plans::Plan;
use crate::error::AppError;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/billing", web::get().to(show))
        .route("/billing/checkout", web::post().to(start_checkout));
}

fn time(t: Option<chrono::NaiveDateTime>) -> Value {
    t.map_or(Value::Null, |t| json!(t.and_utc().to_rfc3339()))
}

pub fn plan_json(p: &Plan) -> Value {
    let mut prices = vec![];
    if p.paypal_price_cents > 0 {
        prices.push(json!({"provider": "paypal", "amount_cents": p.paypal_price_cents, "currency": p.paypal_currency}));
    }
    if p.mercadopago_price_cents > 0 {
        prices.push(json!({"provider": "mercadopago", "amount_cents": p.mercadopago_price_cents, "currency": p.mercadopago_currency}));
    }
    json!({
        "id": p.id, "name": p.name,
        "limits": {
            "architectures_per_hour": p.architectures_per_hour, "books_per_hour": p.books_per_hour,
            "books_per_month": p.books_per_month, "max_pages": p.max_pages,
            "cover_candidates": p.cover_candidates,
        },
        "prices": prices,
    })
}

pub fn overview_json(o: &Overview) -> Value {
    json!({
        "plan": o.plan.id,
        "plan_name": o.plan.name,
        "status": o.status(),
        "provider": o.subscription.as_ref().map(|s| s.provider.clone()),
        "renews_at": time(o.renews_at()),
        "ends_at": time(o.ends_at()),
        "plans": o.plans.iter().map(plan_json).collect::<Vec<_>>(),
        "providers": o.providers.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
    })
}

async fn show(
    ApiUser(user): ApiUser,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let o = checkout::overview(&state.db, &state.settings, &user).await?;
    Ok(HttpResponse::Ok().json(overview_json(&o)))
}

#[derive(Deserialize)]
struct CheckoutBody {
    plan: String,
    provider: String,
}

async fn start_checkout(
    ApiUser(user): ApiUser,
    state: web::Data<AppState>,
    body: web::Json<CheckoutBody>,
) -> Result<HttpResponse, AppError> {
    let b = body.into_inner();
    let url = checkout::checkout(&state.db, &state.settings, &user, &b.plan, &b.provider).await?;
    Ok(HttpResponse::Ok().json(json!({ "redirect_url": url })))
}
