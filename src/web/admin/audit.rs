//! The audit log page: the latest admin and security actions, with the actor's e-mail.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;

use super::RequireAdmin;
use crate::db::{self, models::AuditEntry, repo};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::render::html;
use crate::web::session::PageCtx;

const SHOWN: i64 = 200;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/audit", web::get().to(audit_page));
}

pub struct AuditRow {
    pub entry: AuditEntry,
    pub actor: String,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    page: PageCtx,
    rows: Vec<AuditRow>,
}

async fn audit_page(
    _admin: RequireAdmin,
    page: PageCtx,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let rows = db::run(&state.db, |c| repo::admin::audit_with_actors(c, SHOWN))
        .await?
        .into_iter()
        .map(|(entry, actor)| AuditRow {
            entry,
            actor: actor.unwrap_or_else(|| "–".into()),
        })
        .collect();
    html(StatusCode::OK, &AuditPage { page, rows })
}
