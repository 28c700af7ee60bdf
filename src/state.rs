//! `AppState`: the per-node handles every request handler, WebSocket session and background task
//! shares. It lives apart from the assembly (`app.rs`) so handlers depend on the state, never on the
//! routes or middleware: this module imports no `web` code.

use std::sync::Arc;

use actix::Addr;
use buko_actors::ProgressBroadcaster;
use buko_actors::ProgressSink;

use crate::books::BookService;
use crate::bus::redis::Redis;
use crate::bus::Presence;
use crate::config::Settings;
use crate::db::DbPool;
use crate::limits::RateLimiter;
use crate::runner::Runner;
use crate::ws::registry::SessionRegistry;

/// Shared by every handler (cheap to clone; everything inside is a handle).
pub struct AppState {
    pub settings: Arc<Settings>,
    pub db: DbPool,
    pub redis: Option<Redis>,
    /// Shared across nodes through Redis when configured (falls back to this node's memory).
    pub limiter: Arc<dyn RateLimiter>,
    /// Online users and peak (Redis-backed when configured).
    pub presence: Arc<dyn Presence>,
    /// The engine's `ProgressSink`: give it to the `ProgressBroadcaster`. Publishes to Redis for the
    /// other nodes (whose relay — `bus::start_relay` — delivers as `Relay`), or nowhere on one node.
    pub progress_sink: Arc<dyn ProgressSink>,
    /// Whether this node runs job workers (reported by `/health/ready`).
    pub runs_workers: bool,
    /// The node's generation engine (supervisor + progress broadcaster) and the job runner over it.
    pub runner: Runner,
    /// The book use cases (create, approve, controls, export…) every door calls.
    pub books: BookService,
    /// This node's progress fan-out: the engine's broadcaster, so books written on this node reach its
    /// WebSocket sessions.
    pub broadcaster: Addr<ProgressBroadcaster>,
    /// This node's WebSocket sessions by user.
    pub ws_registry: Arc<SessionRegistry>,
    /// The admin panel's per-node state (node name, peak of online users, CPU meter).
    pub admin: Arc<crate::node::AdminState>,
    /// Recent session look-ups (`sessions::cache`).
    pub sessions: Arc<crate::sessions::cache::SessionCache>,
    /// The credentials of this node's WebSocket sessions, re-checked periodically (`ws::auth_watch`).
    pub ws_auth: Arc<crate::ws::credentials::AuthWatch>,
    /// Draining on SIGTERM (see `shutdown`).
    pub lifecycle: crate::lifecycle::Lifecycle,
}
