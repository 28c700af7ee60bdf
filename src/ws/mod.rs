//! The `/ws` endpoint: checks the page's `Origin` ([`origin`]), authenticates the upgrade (session
//! cookie, or `?api_key=` for API clients) and starts one [`session::WsSession`] actor per connection,
//! whose credential [`auth_watch`] keeps re-checking. It owns no progress state: the broadcaster
//! fans out, the events table replays.

pub mod auth_watch;
pub mod credentials;
pub mod gaps;
pub mod origin;
pub mod registry;
pub mod session;

use actix_session::SessionExt;
use actix_web::{web, HttpRequest, HttpResponse};
use actix_web_actors::ws;
use serde::Deserialize;

use crate::db::{self, repo};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::session::{session_id, session_user};
use auth_watch::Credential;

/// Largest client frame accepted (client messages are a few hundred bytes).
const MAX_FRAME: usize = 16 * 1024;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/ws", web::get().to(upgrade));
}

#[derive(Deserialize)]
struct WsQuery {
    api_key: Option<String>,
}

async fn upgrade(
    req: HttpRequest,
    stream: web::Payload,
    state: web::Data<AppState>,
    query: web::Query<WsQuery>,
) -> Result<HttpResponse, actix_web::Error> {
    if !origin::allowed(&req, &state.settings) {
        return Err(
            AppError::Forbidden("this page's origin may not open the WebSocket".into()).into(),
        );
    }
    let found = match query.into_inner().api_key {
        Some(key) => db::run(&state.db, move |c| repo::api_keys::authenticate(c, &key))
            .await
            .map_err(AppError::from)?
            .map(|(key, user)| (user, Credential::ApiKey(key.id))),
        None => {
            let session = req.get_session();
            match (session_user(&state, &session).await?, session_id(&session)) {
                (Some(user), Some(sid)) => Some((user, Credential::Session(sid))),
                _ => None,
            }
        }
    };
    let (user, credential) = found.ok_or(AppError::Unauthorized)?;
    ws::WsResponseBuilder::new(
        session::WsSession::new(state, user, credential),
        &req,
        stream,
    )
    .frame_size(MAX_FRAME)
    .start()
}
