//! Application assembly: settings → pools → migrations → Redis-or-local shared services → HTTP server
//! and job workers. `Application::build` binds the listener first, so tests start the app on port 0 and
//! read the port back. A node's role picks what runs: web and workers (`buko serve`), web only
//! (`--no-worker`), or workers only (`buko worker`, with just the health routes on `BUKO_BIND`).

use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;

use actix_session::config::{CookieContentSecurity, PersistentSession};
use actix_session::storage::CookieSessionStore;
use actix_session::SessionMiddleware;
use actix_web::cookie::{time::Duration as CookieDuration, Key, SameSite};
use actix_web::dev::Server;
use actix_web::middleware::{from_fn, DefaultHeaders};
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use rand::RngCore;

use buko_actors::{NoRemote, ProgressSink};

use crate::bus::redis::Redis;
use crate::bus::{MemoryPresence, Presence, RedisPresence, RedisProgressSink};
use crate::config::Settings;
use crate::db;
use crate::limits::{MemoryLimiter, RateLimiter, RedisLimiter};
use crate::queue::{JobHandlers, QueueName, WorkerPool};
use crate::runner::Runner;
use crate::state::AppState;
use crate::store::DbBookStore;
use crate::ws::registry::SessionRegistry;
use actix::Addr;
use buko_actors::ProgressBroadcaster;

/// What a node runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NodeRole {
    #[default]
    WebAndWorkers,
    WebOnly,
    WorkersOnly,
}

impl NodeRole {
    fn runs_workers(self) -> bool {
        self != NodeRole::WebOnly
    }
}

/// The Redis key prefix for shared limits and presence.
const REDIS_PREFIX: &str = "buko:";

pub struct Application {
    port: u16,
    server: Server,
    workers: Option<WorkerPool>,
    broadcaster: Addr<ProgressBroadcaster>,
    runner: Runner,
    state: web::Data<AppState>,
    ops_server: Option<(u16, actix_web::dev::ServerHandle)>,
}

impl Application {
    /// A node that serves the web and runs workers (`buko serve`).
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        Self::build_with(settings, NodeRole::WebAndWorkers).await
    }

    pub async fn build_with(settings: Settings, role: NodeRole) -> anyhow::Result<Application> {
        crate::llm::init_tls();
        crate::metrics::handle();
        std::fs::create_dir_all(&settings.data_dir).with_context(|| {
            format!(
                "creating the data directory {}",
                settings.data_dir.display()
            )
        })?;
        let pool = db::build_app_pool(
            settings.database_url.expose(),
            settings.db_pool_size,
            &settings.ops,
        )?;
        migrate_settings(&settings).await?;
        crate::billing::start(&pool, &settings).await?;
        let redis = match &settings.redis_url {
            Some(url) => Some(Redis::connect_lazy(url.expose())?),
            None => None,
        };
        let key = session_key(&settings)?;
        let listener = TcpListener::bind(&settings.bind)
            .with_context(|| format!("binding {}", settings.bind))?;
        let port = listener.local_addr()?.port();
        let (limiter, presence, progress_sink): (
            Arc<dyn RateLimiter>,
            Arc<dyn Presence>,
            Arc<dyn ProgressSink>,
        ) = match &redis {
            Some(r) => {
                actix_web::rt::spawn(r.clone().monitor(std::time::Duration::from_secs(2)));
                (
                    Arc::new(RedisLimiter::new(r.clone(), &format!("{REDIS_PREFIX}rl:"))),
                    Arc::new(RedisPresence::new(
                        r.clone(),
                        REDIS_PREFIX,
                        crate::bus::presence::ONLINE_WINDOW,
                    )),
                    Arc::new(RedisProgressSink::start(
                        r.clone(),
                        &settings.node_id,
                        crate::bus::progress::CHANNEL,
                    )),
                )
            }
            None => (
                Arc::new(MemoryLimiter::new()),
                Arc::new(MemoryPresence::default()),
                Arc::new(NoRemote),
            ),
        };
        let llm = crate::llm::build_provider(&settings.llm);
        log::info!(target: "buko", provider = llm.provider(), model = llm.model(); "LLM provider");
        let engine = buko_actors::Engine::start(
            llm,
            Arc::new(DbBookStore::new(pool.clone())),
            progress_sink.clone(),
            Arc::new(buko_actors::SystemClock),
            buko_actors::EngineConfig {
                // Books waiting for an open breaker free their job slot and are scheduled again.
                yield_while_breaker_open: true,
                ..buko_actors::EngineConfig::default()
            },
        );
        if let Some(r) = &redis {
            // Other nodes' progress reaches this node's sessions (never echoed back out).
            let broadcaster = engine.broadcaster.clone();
            crate::bus::start_relay(
                r.clone(),
                &settings.node_id,
                crate::bus::progress::CHANNEL,
                move |m| broadcaster.do_send(buko_actors::Relay(m)),
            );
        }
        let cost_model =
            crate::books::CostModel::of(engine.deps.llm.as_ref(), settings.llm.prompt_cache);
        let admin = Arc::new(crate::node::AdminState::new());
        let signal = crate::admin::control::EngineControl {
            supervisor: engine.supervisor.clone(),
            broadcaster: engine.broadcaster.clone(),
            redis: redis.clone(),
            node: admin.node.clone(),
        };
        let runner = Runner::new(engine, pool.clone());
        let books = crate::books::BookService::new(
            pool.clone(),
            limiter.clone(),
            settings.data_dir.clone(),
            cost_model,
        )
        .with_signal(Arc::new(signal));
        let state = web::Data::new(AppState {
            settings: Arc::new(settings.clone()),
            db: pool,
            redis,
            limiter,
            books,
            presence,
            progress_sink,
            runs_workers: role.runs_workers(),
            broadcaster: runner.engine.broadcaster.clone(),
            ws_registry: Arc::new(SessionRegistry::new()),
            admin,
            sessions: Arc::new(crate::sessions::SessionCache::new()),
            ws_auth: Arc::new(crate::ws::auth_watch::AuthWatch::default()),
            lifecycle: Default::default(),
            runner,
        });
        crate::sessions::sign_in::warm_up();
        actix_web::rt::spawn(crate::ws::auth_watch::run(state.clone()));
        let workers = role.runs_workers().then(|| {
            WorkerPool::start(
                state.db.clone(),
                // LISTEN is a session feature: never through a transaction pooler.
                settings.ops.session_url(&settings.database_url),
                settings.queue.clone(),
                job_handlers(&state),
                &settings.node_id,
            )
        });
        // The dashboard's live figures, and the cross-node admin commands when Redis is configured.
        actix_web::rt::spawn(crate::admin::stats::run(state.clone()));
        actix_web::rt::spawn(crate::analytics::rollup::run(state.clone()));
        if let Some(url) = &settings.redis_url {
            actix_web::rt::spawn(crate::admin::control::listen(
                state.clone(),
                url.expose().to_string(),
            ));
        }
        let broadcaster = state.broadcaster.clone();
        let app_runner = state.runner.clone();
        let app_state = state.clone();
        let secure = settings.cookie_secure;
        let trusted = web::Data::new(settings.ops.trusted_proxies.clone());
        let ops_server = crate::ops::listener::start_ops_listener(&settings, &state, &trusted)?;
        let grace = settings.ops.shutdown_grace.as_secs();
        let worker_no = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let server = HttpServer::new(move || {
            // The factory runs once on each worker's thread: name it for profiles and `top -H`.
            let n = worker_no.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            buko_actors::name_this_thread(&format!("http-{n}"));
            let session = SessionMiddleware::builder(CookieSessionStore::default(), key.clone())
                .cookie_name("buko_session".into())
                .cookie_secure(secure)
                .cookie_http_only(true)
                .cookie_same_site(SameSite::Lax)
                .cookie_content_security(CookieContentSecurity::Private)
                .session_lifecycle(
                    PersistentSession::default().session_ttl(CookieDuration::days(14)),
                )
                .build();
            App::new()
                .app_data(state.clone())
                .app_data(trusted.clone())
                .configure(crate::web::extractor_config)
                .configure(move |cfg| {
                    if role == NodeRole::WorkersOnly {
                        // A worker node answers health checks only.
                        crate::web::health::routes(cfg)
                    } else {
                        crate::web::routes(cfg)
                    }
                })
                .wrap(from_fn(crate::web::input::check_input))
                .wrap(from_fn(crate::limits::http::enforce))
                .wrap(from_fn(crate::web::error_pages::render_error_pages))
                .wrap(from_fn(crate::web::cache_control::no_store))
                .wrap(session)
                .wrap(security_headers())
                .wrap(from_fn(crate::metrics::http_metrics))
                .wrap(from_fn(crate::telemetry::log_requests))
        })
        .workers(settings.http_workers)
        // Signals are `shutdown`'s business (release jobs, close sockets, bounded exit).
        .disable_signals()
        .shutdown_timeout(grace)
        .on_connect(set_nodelay)
        .listen(listener)?
        .run();
        log::info!(target: "buko", port = port, role = format!("{role:?}").as_str(); "listening");
        Ok(Application {
            port,
            server,
            workers,
            broadcaster,
            runner: app_runner,
            state: app_state,
            ops_server,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The node's progress broadcaster (tests publish through it).
    pub fn broadcaster(&self) -> Addr<ProgressBroadcaster> {
        self.broadcaster.clone()
    }

    /// The node's job runner (tests run architecture and book jobs through it until workers do).
    pub fn runner(&self) -> Runner {
        self.runner.clone()
    }

    /// The port of the `BUKO_OPS_BIND` listener, when configured.
    pub fn ops_port(&self) -> Option<u16> {
        self.ops_server.as_ref().map(|(p, _)| p).copied()
    }

    /// Serves until SIGTERM / SIGINT, then drains within the grace period (see `shutdown`).
    pub async fn run_until_signalled(self) -> std::io::Result<()> {
        let grace = self.state.settings.ops.shutdown_grace;
        crate::shutdown::run_until_signalled(crate::shutdown::Parts {
            server: self.server,
            ops_server: self.ops_server.map(|(_, h)| h),
            workers: self.workers,
            state: self.state,
            grace,
        })
        .await
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let r = self.server.await;
        // Running jobs are left to their leases: another node (or this one restarted) resumes them.
        if let Some(w) = &self.workers {
            w.stop();
        }
        r
    }
}

/// The job handlers of this node, by queue. A queue without a handler is not claimed here.
fn job_handlers(state: &web::Data<AppState>) -> JobHandlers {
    JobHandlers::new()
        .with(
            QueueName::Architecture,
            Arc::new(crate::runner::handlers::ArchitectureHandler(
                state.runner.clone(),
            )),
        )
        .with(
            QueueName::Book,
            Arc::new(crate::runner::handlers::BookHandler(state.runner.clone())),
        )
        .with(
            QueueName::Billing,
            Arc::new(crate::billing::job::BillingEventHandler {
                settings: state.settings.clone(),
                db: state.db.clone(),
            }),
        )
        .with(
            QueueName::Cover,
            Arc::new(crate::books::CoverArtHandler {
                db: state.db.clone(),
                images: crate::images::build_image_provider(&state.settings.images),
            }),
        )
        .with(
            QueueName::Email,
            Arc::new(crate::email::handler::EmailHandler {
                mail: Arc::new(state.settings.mail.clone()),
                data_dir: state.settings.data_dir.clone(),
                db: state.db.clone(),
            }),
        )
}

fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((
            "Content-Security-Policy",
            crate::web::render::content_security_policy("'self'"),
        ))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "same-origin"))
}

/// Runs the migrations over the session URL (`BUKO_DATABASE_DIRECT_URL` when set): their advisory
/// lock is a session feature that a transaction pooler would scatter over server connections.
pub async fn migrate_settings(settings: &Settings) -> anyhow::Result<usize> {
    let url = settings.ops.session_url(&settings.database_url);
    Ok(db::migrate_pool(&db::build_pool(url, 1)?).await?)
}

/// The session cookie key: from `BUKO_SECRET_KEY`, else generated once and kept in the data dir (so
/// sessions survive restarts of a single node; set the variable when running several nodes).
fn session_key(settings: &Settings) -> anyhow::Result<Key> {
    if let Some(secret) = &settings.secret_key {
        anyhow::ensure!(
            secret.expose().len() >= 32,
            "BUKO_SECRET_KEY must be at least 32 bytes"
        );
        return Ok(Key::derive_from(secret.expose().as_bytes()));
    }
    let path = settings.data_dir.join("secret.key");
    if let Ok(hexed) = std::fs::read_to_string(&path) {
        if let Ok(bytes) = hex::decode(hexed.trim()) {
            if bytes.len() >= 64 {
                return Ok(Key::from(&bytes));
            }
        }
    }
    let mut bytes = [0u8; 64];
    rand::rng().fill_bytes(&mut bytes);
    write_private(&path, &hex::encode(bytes))
        .with_context(|| format!("writing {}", path.display()))?;
    log::warn!(target: "buko", "BUKO_SECRET_KEY is not set; generated a session key in the data directory");
    Ok(Key::from(&bytes))
}

fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .mode(0o600)
            .open(path)?;
        f.write_all(content.as_bytes())
    }
    #[cfg(not(unix))]
    {
        std::fs::write(path, content)
    }
}

/// Turns Nagle's algorithm off on every accepted socket: a WebSocket delta is a small write that must
/// leave at once, not wait for the previous segment's ACK (actix-web leaves `TCP_NODELAY` off unless
/// asked; see docs/PERFORMANCE.md, "TCP_NODELAY").
fn set_nodelay(conn: &dyn std::any::Any, _: &mut actix_web::dev::Extensions) {
    if let Some(sock) = conn.downcast_ref::<actix_web::rt::net::TcpStream>() {
        if let Err(e) = sock.set_nodelay(true) {
            log::debug!(target: "buko", "could not set TCP_NODELAY: {e}");
        }
    }
}
