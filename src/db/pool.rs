//! The connection pool: our own r2d2 manager (the backend chosen by the URL, SQLite's pragmas, no named
//! prepared statements behind a transaction pooler) and what it knows about each connection
//! ([`Pooled`]: checked at checkout only after [`CHECK_IF_IDLE`], dropped once a statement found it gone).

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, SqliteConnection};

use super::{Backend, DbConn, DbError};

/// Creates connections for the backend named by the URL, with SQLite's pragmas applied to each.
#[derive(Debug)]
pub struct ConnectionManager {
    url: String,
    backend: Backend,
    /// PostgreSQL through a transaction pooler (PgBouncer): no named prepared statements, since the
    /// next transaction may run on a server connection that never saw them.
    pooled: bool,
    /// Checkouts of a connection given back less than this long ago skip the `SELECT 1`.
    check_if_idle: Duration,
}

impl ConnectionManager {
    pub fn new(url: &str) -> Self {
        let backend = Backend::from_url(url);
        let url = match backend {
            Backend::Sqlite => url.trim_start_matches("sqlite://").to_string(),
            Backend::Postgres => url.to_string(),
        };
        ConnectionManager {
            url,
            backend,
            pooled: false,
            check_if_idle: CHECK_IF_IDLE,
        }
    }

    /// A manager for a URL that reaches PostgreSQL through a transaction pooler.
    pub fn through_pooler(url: &str) -> Self {
        ConnectionManager {
            pooled: true,
            ..Self::new(url)
        }
    }

    /// The same manager checking every connection idle for longer than `idle` (zero: every checkout).
    pub fn check_if_idle(self, idle: Duration) -> Self {
        ConnectionManager {
            check_if_idle: idle,
            ..self
        }
    }
}

/// A connection used within this long before its checkout is handed out without a round trip: it was
/// just working, and a connection that dies in between is caught by [`Pooled::lost`] on its first
/// failed statement. Longer idle ones are checked with `SELECT 1` (a PostgreSQL restart, a server-side
/// idle timeout). Before this, every checkout sent a `SELECT 1`: 38 % of all statements under load
/// (docs/PERFORMANCE.md, "pg_stat_statements").
pub const CHECK_IF_IDLE: Duration = Duration::from_secs(2);

/// A pooled connection and what the pool knows about it: when it was last given back, and whether a
/// statement on it failed because the connection itself is gone. Dereferences to [`DbConn`], so code
/// holding a pooled connection uses it as one.
pub struct Pooled {
    conn: DbConn,
    returned: Option<Instant>,
    lost: Arc<AtomicBool>,
}

impl Pooled {
    /// Whether a statement on this connection failed because the connection is closed or unreachable
    /// (the pool then drops it instead of handing it out again).
    pub fn lost(&self) -> bool {
        self.lost.load(Ordering::Relaxed)
    }

    /// The connection itself, outside any pool.
    pub fn into_inner(self) -> DbConn {
        self.conn
    }
}

impl std::ops::Deref for Pooled {
    type Target = DbConn;
    fn deref(&self) -> &DbConn {
        &self.conn
    }
}

impl std::ops::DerefMut for Pooled {
    fn deref_mut(&mut self) -> &mut DbConn {
        &mut self.conn
    }
}

/// A statement error that says the connection itself is gone (not the statement's fault).
fn connection_gone(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    matches!(
        e,
        Error::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _
        )
    )
}

/// Watches every statement on a connection and raises `lost` when one fails because the connection
/// is gone — whichever code path ran it.
fn watch_for_loss(lost: Arc<AtomicBool>) -> impl diesel::connection::Instrumentation {
    move |event: diesel::connection::InstrumentationEvent<'_>| {
        if let diesel::connection::InstrumentationEvent::FinishQuery { error: Some(e), .. } = event
        {
            if connection_gone(e) {
                lost.store(true, Ordering::Relaxed);
            }
        }
    }
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = Pooled;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<Pooled, Self::Error> {
        let lost = Arc::new(AtomicBool::new(false));
        let conn = match self.backend {
            Backend::Postgres => {
                let mut conn = PgConnection::establish(&self.url)
                    .map_err(diesel::r2d2::Error::ConnectionError)?;
                if self.pooled {
                    // Each statement is then sent with its parameters in one round trip
                    // (PQsendQueryParams), which a transaction pooler handles.
                    conn.set_prepared_statement_cache_size(diesel::connection::CacheSize::Disabled);
                }
                conn.set_instrumentation(watch_for_loss(lost.clone()));
                DbConn::Pg(conn)
            }
            Backend::Sqlite => {
                let mut conn = SqliteConnection::establish(&self.url)
                    .map_err(diesel::r2d2::Error::ConnectionError)?;
                // WAL lets readers run beside the writer; busy_timeout makes writers wait instead of failing.
                conn.batch_execute(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                     PRAGMA busy_timeout = 10000;",
                )
                .map_err(diesel::r2d2::Error::QueryError)?;
                DbConn::Sqlite(conn)
            }
        };
        Ok(Pooled {
            conn,
            returned: None,
            lost,
        })
    }

    /// Asked at checkout: a connection given back within [`CHECK_IF_IDLE`] is taken as working.
    fn is_valid(&self, conn: &mut Pooled) -> Result<(), Self::Error> {
        if conn
            .returned
            .is_some_and(|t| t.elapsed() < self.check_if_idle)
        {
            return Ok(());
        }
        conn.batch_execute("SELECT 1")
            .map_err(diesel::r2d2::Error::QueryError)
    }

    /// Asked when a connection is given back: one whose connection is gone, or that was left inside a
    /// transaction or with a broken transaction state, is dropped (the pool makes a new one).
    fn has_broken(&self, conn: &mut Pooled) -> bool {
        conn.returned = Some(Instant::now());
        conn.lost() || diesel::r2d2::R2D2Connection::is_broken(&mut conn.conn)
    }
}

pub type DbPool = r2d2::Pool<ConnectionManager>;

/// Builds the pool (creating the SQLite file's directory if needed) without connecting eagerly, so a
/// node can start while PostgreSQL restarts and report it on `/health/ready`.
pub fn build_pool(url: &str, max_size: u32) -> Result<DbPool, DbError> {
    build_pool_with(ConnectionManager::new(url), url, max_size)
}

/// [`build_pool`] for `DATABASE_URL` as the deployment describes it: through a transaction pooler
/// when a direct URL is configured beside it (see `ops::OpsSettings::database_direct_url`).
pub fn build_app_pool(
    url: &str,
    max_size: u32,
    ops: &crate::ops::OpsSettings,
) -> Result<DbPool, DbError> {
    let manager = if ops.pooled() && Backend::from_url(url) == Backend::Postgres {
        ConnectionManager::through_pooler(url)
    } else {
        ConnectionManager::new(url)
    };
    build_pool_with(manager, url, max_size)
}

fn build_pool_with(
    manager: ConnectionManager,
    url: &str,
    max_size: u32,
) -> Result<DbPool, DbError> {
    if Backend::from_url(url) == Backend::Sqlite {
        let path = url.trim_start_matches("sqlite://");
        if let Some(dir) = Path::new(path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            // A missing directory is reported by the first connection with the path in the message.
            let _ = std::fs::create_dir_all(dir);
        }
    }
    let pool = r2d2::Pool::builder()
        .max_size(max_size)
        .min_idle(Some(0))
        .connection_timeout(Duration::from_secs(10))
        .build_unchecked(manager);
    Ok(pool)
}
