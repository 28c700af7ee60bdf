//! Storage: one diesel codebase over SQLite (embedded default) and PostgreSQL (scale-out), r2d2 pools,
//! embedded migrations, and the repositories. Repositories take `&mut DbConn` so they compose inside a
//! transaction; async code reaches them only through [`run`], which moves the work to the blocking pool —
//! diesel never runs on the async reactor, and no connection is held across an LLM await.

pub mod ids;
pub mod inspect;
pub mod models;
mod pool;
pub mod repo;
pub mod schema;
pub mod scratch;
pub mod types;

pub use pool::{build_app_pool, build_pool, ConnectionManager, DbPool, Pooled, CHECK_IF_IDLE};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A connection to either backend. Queries written once against `schema` run on both.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

impl DbConn {
    /// A round trip to the database (readiness checks).
    pub fn ping(&mut self) -> Result<(), DbError> {
        Ok(self.batch_execute("SELECT 1")?)
    }

    pub fn backend(&self) -> Backend {
        match self {
            DbConn::Pg(_) => Backend::Postgres,
            DbConn::Sqlite(_) => Backend::Sqlite,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a URL names: `postgres://` / `postgresql://` for PostgreSQL, anything else is a SQLite
    /// path (optionally `sqlite://`). Chosen explicitly so a mistyped PostgreSQL URL never silently
    /// becomes a SQLite file.
    pub fn from_url(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

/// Errors of the storage boundary. The message is for logs; callers map it to their own boundary.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database pool: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("database query: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("database task was cancelled")]
    Cancelled,
}

impl DbError {
    /// "No such row", for callers that look a row up without diesel.
    pub fn not_found() -> DbError {
        DbError::Query(diesel::result::Error::NotFound)
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, DbError::Query(diesel::result::Error::NotFound))
    }

    /// Busy, locked or unreachable: worth retrying later.
    pub fn is_transient(&self) -> bool {
        use diesel::result::{DatabaseErrorKind, Error};
        match self {
            DbError::Pool(_) | DbError::Cancelled => true,
            DbError::Query(Error::DatabaseError(kind, info)) => {
                let msg = info.message();
                matches!(
                    kind,
                    DatabaseErrorKind::SerializationFailure | DatabaseErrorKind::ClosedConnection
                ) || msg.contains("locked")
                    || msg.contains("busy")
            }
            DbError::Query(Error::BrokenTransactionManager) => true,
            DbError::Query(_) => false,
        }
    }

    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            DbError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _
            ))
        )
    }
}

/// Key of the PostgreSQL advisory lock that serializes migrations across nodes.
const MIGRATION_LOCK: i64 = 0x0062_756b_6f6d_6967; // "bukomig"

/// Why migrations did not run.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("connecting to the database: {0}")]
    Connect(#[from] DbError),
    #[error("taking the migration lock: {0}")]
    Lock(diesel::result::Error),
    #[error("running migrations: {0}")]
    Run(String),
}

/// Applies the embedded migrations of the pool's backend. On PostgreSQL the run holds an advisory lock,
/// so nodes starting together on a fresh database migrate one after the other instead of racing (the
/// losers would fail on duplicate catalog entries); the later ones then find nothing pending.
pub fn migrate(conn: &mut DbConn) -> Result<usize, MigrateError> {
    // The harness's error is a boxed `dyn Error` that is not `Send`: keep its message.
    let run = |e: Box<dyn std::error::Error + Send + Sync>| MigrateError::Run(e.to_string());
    match conn {
        DbConn::Sqlite(c) => c
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(|v| v.len())
            .map_err(run),
        DbConn::Pg(c) => {
            c.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
                .map_err(MigrateError::Lock)?;
            let applied = c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.len())
                .map_err(run);
            let unlocked = c.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"));
            let applied = applied?;
            unlocked.map_err(MigrateError::Lock)?;
            Ok(applied)
        }
    }
}

/// Runs the embedded migrations of the configured backend on the blocking pool (server start,
/// `buko migrate`, `buko generate`'s scratch database).
pub async fn migrate_pool(pool: &DbPool) -> Result<usize, MigrateError> {
    let applied = run(pool, |c| Ok(migrate(c))).await??;
    if applied > 0 {
        log::info!(target: "buko::db", applied = applied; "migrations applied");
    }
    Ok(applied)
}

/// A transaction that will write. On SQLite it begins `IMMEDIATE`: the write lock is taken up front (a
/// busy database makes it wait, up to the busy timeout) instead of failing with "database is locked"
/// when a transaction that started by reading tries to upgrade. On PostgreSQL it is a plain transaction.
/// Nested `transaction` calls inside become savepoints on both.
pub fn write_tx<T, E>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<diesel::result::Error>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    let DbConn::Sqlite(inner) = conn else {
        return conn.transaction(f);
    };
    let nested = AnsiTransactionManager::transaction_manager_status_mut(inner)
        .transaction_depth()
        .map_err(E::from)?
        .is_some();
    if nested {
        // Inside a transaction already (which holds the lock): a savepoint.
        return conn.transaction(f);
    }
    AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?;
    let result = f(conn);
    if let DbConn::Sqlite(inner) = conn {
        match &result {
            Ok(_) => AnsiTransactionManager::commit_transaction(inner)?,
            Err(_) => {
                let _ = AnsiTransactionManager::rollback_transaction(inner);
            }
        }
    }
    result
}

/// Runs storage work on the blocking pool with a pooled connection.
pub async fn run<F, T>(pool: &DbPool, f: F) -> Result<T, DbError>
where
    F: FnOnce(&mut DbConn) -> Result<T, DbError> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    actix_web::rt::task::spawn_blocking(move || {
        let mut conn = pool.get()?;
        f(&mut conn)
    })
    .await
    .map_err(|_| DbError::Cancelled)?
}

/// A new random id (UUID v4 as text; generated here because the multi-backend connection has no RETURNING).
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Now, as stored: UTC without offset, to the microsecond (PostgreSQL's precision on both backends).
pub fn now() -> chrono::NaiveDateTime {
    let t = chrono::Utc::now().naive_utc();
    t.with_nanosecond_trunc()
}

trait TruncNanos {
    fn with_nanosecond_trunc(self) -> Self;
}

impl TruncNanos for chrono::NaiveDateTime {
    fn with_nanosecond_trunc(self) -> Self {
        use chrono::Timelike;
        let micros = self.nanosecond() / 1_000 * 1_000;
        self.with_nanosecond(micros).unwrap_or(self)
    }
}

#[cfg(test)]
mod tests {
    use diesel::prelude::*;

    use super::*;

    fn sqlite() -> (tempfile::TempDir, Pooled) {
        let dir = tempfile::tempdir().expect("tmp");
        let mgr = ConnectionManager::new(&dir.path().join("t.db").to_string_lossy());
        let mut conn = r2d2::ManageConnection::connect(&mgr).expect("connect");
        conn.batch_execute("CREATE TABLE t (v INTEGER NOT NULL)")
            .expect("table");
        (dir, conn)
    }

    fn count(conn: &mut DbConn) -> i64 {
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        diesel::sql_query("SELECT count(*) AS n FROM t")
            .get_result::<N>(conn)
            .expect("count")
            .n
    }

    #[test]
    fn write_tx_commits_rolls_back_and_nests_as_savepoints() {
        let (_dir, mut conn) = sqlite();
        write_tx(&mut conn, |c| {
            c.batch_execute("INSERT INTO t VALUES (1)")?;
            // A nested transaction that fails rolls back only itself.
            let inner: Result<(), diesel::result::Error> = c.transaction(|c| {
                c.batch_execute("INSERT INTO t VALUES (2)")?;
                Err(diesel::result::Error::RollbackTransaction)
            });
            assert!(inner.is_err());
            Ok::<(), diesel::result::Error>(())
        })
        .expect("commit");
        assert_eq!(count(&mut conn), 1);
        let failed: Result<(), diesel::result::Error> = write_tx(&mut conn, |c| {
            c.batch_execute("INSERT INTO t VALUES (3)")?;
            Err(diesel::result::Error::RollbackTransaction)
        });
        assert!(failed.is_err());
        assert_eq!(count(&mut conn), 1, "the failed transaction left nothing");
        // The connection is usable afterwards (no transaction left open).
        write_tx(&mut conn, |c| c.batch_execute("INSERT INTO t VALUES (4)")).expect("again");
        assert_eq!(count(&mut conn), 2);
    }
}
