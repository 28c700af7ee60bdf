//! Reaching live sessions: broadcast a message to every connected WebSocket session (the broadcaster's
//! `all` topic; other nodes receive it through the progress sink when Redis is configured), and
//! disconnect one user's sessions on every node (`admin::control`).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use buko_actors::{ProgressMessage, Publish};
use serde::Deserialize;
use serde_json::json;

use super::{audit, ActionForm, RequireAdmin};
use crate::db::{self, repo};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::render::{html, see_other};
use crate::web::session::{CsrfForm, CsrfProtected, PageCtx};

/// Longest broadcast message, in characters.
pub const MAX_MESSAGE: usize = 500;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/broadcast", web::get().to(page))
        .route("/broadcast", web::post().to(send))
        .route("/users/{id}/disconnect", web::post().to(disconnect));
}

#[derive(Template)]
#[template(path = "admin/broadcast.html")]
struct BroadcastPage {
    page: PageCtx,
    sent: bool,
    connections: usize,
}

#[derive(Deserialize)]
struct SentQuery {
    #[serde(default)]
    sent: Option<String>,
}

async fn page(
    _admin: RequireAdmin,
    page: PageCtx,
    state: web::Data<AppState>,
    q: web::Query<SentQuery>,
) -> Result<HttpResponse, AppError> {
    html(
        StatusCode::OK,
        &BroadcastPage {
            page,
            sent: q.sent.is_some(),
            connections: state.ws_registry.counts().0,
        },
    )
}

#[derive(Deserialize)]
struct MessageForm {
    csrf_token: String,
    message: String,
}

impl CsrfProtected for MessageForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

async fn send(
    RequireAdmin(admin): RequireAdmin,
    state: web::Data<AppState>,
    req: HttpRequest,
    CsrfForm(form): CsrfForm<MessageForm>,
) -> Result<HttpResponse, AppError> {
    let message = form.message.trim().to_string();
    if message.is_empty() || message.chars().count() > MAX_MESSAGE {
        return Err(AppError::Validation(format!(
            "a broadcast has 1 to {MAX_MESSAGE} characters"
        )));
    }
    state
        .broadcaster
        .do_send(Publish(ProgressMessage::Broadcast {
            message: message.clone(),
        }));
    let detail = json!({"message": message});
    audit(
        &state,
        &admin,
        &req,
        "broadcast",
        ("all", String::new()),
        detail,
    )
    .await?;
    Ok(see_other("/admin/broadcast?sent=1"))
}

async fn disconnect(
    RequireAdmin(admin): RequireAdmin,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    _form: CsrfForm<ActionForm>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let lookup = id.clone();
    let user = db::run(&state.db, move |c| repo::users::find(c, &lookup))
        .await?
        .ok_or(AppError::NotFound)?;
    let closed = crate::admin::control::disconnect_user(&state, &user.id).await;
    let detail = json!({"email": user.email, "closed_on_this_node": closed});
    audit(
        &state,
        &admin,
        &req,
        "user.disconnect",
        ("user", user.id.into()),
        detail,
    )
    .await?;
    Ok(see_other("/admin/users"))
}
