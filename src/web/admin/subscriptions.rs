//! Billing in the admin panel: the subscriptions list (user, provider, status, plan, renewal, last
//! event), one subscription with its raw verified events and a manual plan change (the users page's
//! audited action), and the plans editor (limits, prices, provider plan ids; audited as `plan.edit`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;
use serde_json::json;

use super::{audit, RequireAdmin};
use crate::db::repo::billing::{BillingEvent, Subscription, SubscriptionRow};
use crate::db::repo::plans::{Plan, PlanEdit};
use crate::db::{self, repo};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::render::{html, see_other};
use crate::web::session::{CsrfForm, CsrfProtected, PageCtx};

const SHOWN: i64 = 200;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/subscriptions", web::get().to(list))
        .route("/subscriptions/{id}", web::get().to(detail))
        .route("/plans", web::get().to(plans))
        .route("/plans/{plan}", web::post().to(edit_plan));
}

#[derive(Template)]
#[template(path = "admin/subscriptions.html")]
struct ListPage {
    page: PageCtx,
    rows: Vec<(SubscriptionRow, String)>,
}

async fn list(
    _admin: RequireAdmin,
    page: PageCtx,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let rows = db::run(&state.db, |c| {
        let mut out = vec![];
        for r in repo::billing::list(c, SHOWN)? {
            let last = repo::billing::last_event_type(c, &r.sub.id)?.unwrap_or_default();
            out.push((r, last));
        }
        Ok(out)
    })
    .await?;
    html(StatusCode::OK, &ListPage { page, rows })
}

#[derive(Template)]
#[template(path = "admin/subscription.html")]
struct DetailPage {
    page: PageCtx,
    sub: Subscription,
    email: String,
    user_plan: String,
    plans: Vec<String>,
    events: Vec<BillingEvent>,
}

async fn detail(
    _admin: RequireAdmin,
    page: PageCtx,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let found = db::run(&state.db, move |c| {
        let Some(sub) = repo::billing::get(c, &id)? else {
            return Ok(None);
        };
        let user = repo::users::find(c, &sub.user_id)?;
        let plans = repo::plans::list(c, false)?
            .into_iter()
            .map(|p| p.id)
            .collect();
        let events = repo::billing::events_of(c, &sub.id)?;
        Ok(Some((sub, user, plans, events)))
    })
    .await?;
    let (sub, user, plans, events) = found.ok_or(AppError::NotFound)?;
    let (email, user_plan) = user.map(|u| (u.email, u.plan)).unwrap_or_default();
    html(
        StatusCode::OK,
        &DetailPage {
            page,
            sub,
            email,
            user_plan,
            plans,
            events,
        },
    )
}

#[derive(Template)]
#[template(path = "admin/plans.html")]
struct PlansPage {
    page: PageCtx,
    plans: Vec<Plan>,
}

async fn plans(
    _admin: RequireAdmin,
    page: PageCtx,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let plans = db::run(&state.db, |c| repo::plans::list(c, false)).await?;
    html(StatusCode::OK, &PlansPage { page, plans })
}

#[derive(Deserialize)]
pub struct PlanForm {
    csrf_token: String,
    name: String,
    #[serde(default)]
    public: Option<String>,
    architectures_per_hour: i32,
    books_per_hour: i32,
    books_per_month: i32,
    max_pages: i32,
    cover_candidates: i32,
    /// The cost limit offered for a new book (USD); absent keeps the current one.
    #[serde(default)]
    book_budget_usd: Option<f64>,
    paypal_price_cents: i64,
    paypal_currency: String,
    #[serde(default)]
    paypal_plan_id: String,
    mercadopago_price_cents: i64,
    mercadopago_currency: String,
    #[serde(default)]
    mercadopago_plan_id: String,
}

impl CsrfProtected for PlanForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

fn optional(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

impl PlanForm {
    fn validate(self) -> Result<PlanEdit, AppError> {
        let counts = [
            self.architectures_per_hour,
            self.books_per_hour,
            self.books_per_month,
            self.cover_candidates,
        ];
        if counts.iter().any(|n| !(0..=1_000_000).contains(n))
            || !(10..=1000).contains(&self.max_pages)
        {
            return Err(AppError::Validation(
                "limits must be 0–1000000; max pages 10–1000".into(),
            ));
        }
        if let Some(b) = self.book_budget_usd {
            crate::books::validate_budget(b).map_err(|_| {
                AppError::Validation("a book's cost limit is 0.01–10000 USD".into())
            })?;
        }
        if self.paypal_price_cents < 0 || self.mercadopago_price_cents < 0 {
            return Err(AppError::Validation("prices cannot be negative".into()));
        }
        let currency = |c: &str| {
            let c = c.trim().to_ascii_uppercase();
            (c.len() == 3 && c.chars().all(|x| x.is_ascii_alphabetic()))
                .then_some(c)
                .ok_or_else(|| {
                    AppError::Validation("a currency is a 3-letter code such as USD".into())
                })
        };
        let name = self.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 60 {
            return Err(AppError::Validation(
                "a plan needs a name of up to 60 characters".into(),
            ));
        }
        let id_ok = |s: &str| s.len() <= 128 && s.chars().all(|c| c.is_ascii_graphic());
        if !id_ok(&self.paypal_plan_id) || !id_ok(&self.mercadopago_plan_id) {
            return Err(AppError::Validation(
                "provider plan ids are short codes without spaces".into(),
            ));
        }
        Ok(PlanEdit {
            name,
            public: self.public.is_some(),
            architectures_per_hour: self.architectures_per_hour,
            books_per_hour: self.books_per_hour,
            books_per_month: self.books_per_month,
            max_pages: self.max_pages,
            cover_candidates: self.cover_candidates,
            book_budget_usd: self.book_budget_usd,
            paypal_price_cents: self.paypal_price_cents,
            paypal_currency: currency(&self.paypal_currency)?,
            paypal_plan_id: optional(&self.paypal_plan_id),
            mercadopago_price_cents: self.mercadopago_price_cents,
            mercadopago_currency: currency(&self.mercadopago_currency)?,
            mercadopago_plan_id: optional(&self.mercadopago_plan_id),
        })
    }
}

async fn edit_plan(
    RequireAdmin(admin): RequireAdmin,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    CsrfForm(form): CsrfForm<PlanForm>,
) -> Result<HttpResponse, AppError> {
    let edit = form.validate()?;
    let (pid, e) = (id.into_inner(), edit.clone());
    let target = pid.clone();
    let found = db::run(&state.db, move |c| repo::plans::update(c, &pid, &e)).await?;
    if !found {
        return Err(AppError::NotFound);
    }
    let detail = json!({
        "limits": [edit.architectures_per_hour, edit.books_per_hour, edit.books_per_month, edit.max_pages, edit.cover_candidates],
        "paypal": [edit.paypal_price_cents, edit.paypal_currency, edit.paypal_plan_id],
        "mercadopago": [edit.mercadopago_price_cents, edit.mercadopago_currency, edit.mercadopago_plan_id],
        "public": edit.public,
        "book_budget_usd": edit.book_budget_usd,
    });
    audit(&state, &admin, &req, "plan.edit", ("plan", target), detail).await?;
    Ok(see_other("/admin/plans"))
}
