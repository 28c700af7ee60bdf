//! Application assembly: settings → pools → migrations → HTTP server. `Application::build` binds the
//! listener first, so tests start the app on port 0 and read the port back.

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

use crate::bus::redis::Redis;
use crate::config::Settings;
use crate::db::{self, DbPool};
use crate::limits::http::HttpLimits;
use crate::limits::{MemoryLimiter, RateLimiter};
use crate::runner::Runner;
use crate::store::DbBookStore;
use crate::ws::registry::SessionRegistry;
use actix::Addr;
use buko_actors::ProgressBroadcaster;

/// Shared by every handler (cheap to clone; everything inside is a handle).
pub struct AppState {
    pub settings: Arc<Settings>,
    pub db: DbPool,
    pub redis: Option<Redis>,
    pub limiter: Arc<dyn RateLimiter>,
    /// The node's generation engine (supervisor + progress broadcaster) and the job runner over it.
    pub runner: Runner,
    /// Per-IP and per-endpoint request limits (the `limits::http` middleware).
    pub http_limits: HttpLimits,
    /// This node's progress fan-out (the engine's broadcaster): WebSocket sessions subscribe here.
    pub broadcaster: Addr<ProgressBroadcaster>,
    /// This node's WebSocket sessions by user.
    pub ws_registry: Arc<SessionRegistry>,
}

pub struct Application {
    port: u16,
    server: Server,
    broadcaster: Addr<ProgressBroadcaster>,
    runner: Runner,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        crate::llm::init_tls();
        crate::metrics::handle();
        std::fs::create_dir_all(&settings.data_dir).with_context(|| {
            format!(
                "creating the data directory {}",
                settings.data_dir.display()
            )
        })?;
        let pool = db::build_pool(settings.database_url.expose(), settings.db_pool_size)?;
        migrate(&pool).await?;
        let redis = match &settings.redis_url {
            Some(url) => Some(Redis::connect_lazy(url.expose()).map_err(anyhow::Error::msg)?),
            None => None,
        };
        let llm = crate::llm::build_provider(&settings.llm);
        log::info!(target: "buko", provider = llm.provider(), model = llm.model(); "LLM provider");
        let engine = buko_actors::Engine::start(
            llm,
            Arc::new(DbBookStore::new(pool.clone())),
            Arc::new(buko_actors::NoRemote),
            Arc::new(buko_actors::SystemClock),
            buko_actors::EngineConfig::default(),
        );
        let runner = Runner::new(engine, pool.clone());
        let key = session_key(&settings)?;
        let listener = TcpListener::bind(&settings.bind)
            .with_context(|| format!("binding {}", settings.bind))?;
        let port = listener.local_addr()?.port();
        let state = web::Data::new(AppState {
            settings: Arc::new(settings.clone()),
            db: pool,
            redis,
            limiter: Arc::new(MemoryLimiter::new()),
            http_limits: HttpLimits::from_env(),
            broadcaster: runner.engine.broadcaster.clone(),
            ws_registry: Arc::new(SessionRegistry::new()),
            runner,
        });
        let broadcaster = state.broadcaster.clone();
        let app_runner = state.runner.clone();
        let secure = settings.cookie_secure;
        let server = HttpServer::new(move || {
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
                .configure(crate::web::extractor_config)
                .configure(crate::web::routes)
                .wrap(from_fn(crate::limits::http::enforce))
                .wrap(from_fn(crate::web::error_pages::render_error_pages))
                .wrap(session)
                .wrap(security_headers())
                .wrap(from_fn(crate::metrics::http_metrics))
                .wrap(from_fn(crate::telemetry::log_requests))
        })
        .workers(settings.http_workers)
        .listen(listener)?
        .run();
        log::info!(target: "buko", port = port; "listening");
        Ok(Application {
            port,
            server,
            broadcaster,
            runner: app_runner,
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

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; \
             frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
        ))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "same-origin"))
}

/// Runs the embedded migrations of the configured backend.
pub async fn migrate(pool: &DbPool) -> anyhow::Result<usize> {
    let applied = db::run(pool, |c| Ok(db::migrate(c)))
        .await
        .context("connecting to the database")?;
    let applied = applied
        .map_err(anyhow::Error::msg)
        .context("running migrations")?;
    if applied > 0 {
        log::info!(target: "buko::db", applied = applied; "migrations applied");
    }
    Ok(applied)
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
