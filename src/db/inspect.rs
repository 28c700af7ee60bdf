//! Queries about the database itself rather than Buko's data: reachability, pending migrations,
//! server settings (`buko doctor`), and the SQLite file operations of `buko backup` / `buko restore`.

use std::path::Path;

use anyhow::{ensure, Context};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::{DbConn, MigrateError, POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};

/// One round trip.
pub fn ping(conn: &mut DbConn) -> Result<(), diesel::result::Error> {
    conn.batch_execute("SELECT 1")
}

/// How many embedded migrations the database has not run yet.
pub fn pending_migrations(conn: &mut DbConn) -> Result<usize, MigrateError> {
    use diesel_migrations::MigrationHarness;
    match conn {
        DbConn::Pg(c) => c.pending_migrations(POSTGRES_MIGRATIONS).map(|v| v.len()),
        DbConn::Sqlite(c) => c.pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
    }
    .map_err(|e| MigrateError::Run(e.to_string()))
}

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = Text)]
    setting: String,
}

/// A numeric PostgreSQL server setting (`max_connections`…).
pub fn pg_setting(c: &mut PgConnection, name: &str) -> Option<i64> {
    diesel::sql_query("SELECT setting FROM pg_settings WHERE name = $1")
        .bind::<Text, _>(name)
        .get_result::<Setting>(c)
        .ok()?
        .setting
        .parse()
        .ok()
}

/// PostgreSQL's `max_connections` (if readable) and `superuser_reserved_connections`; `None` on SQLite.
pub fn pg_connection_limits(conn: &mut DbConn) -> Option<(Option<i64>, i64)> {
    match conn {
        DbConn::Pg(c) => Some((
            pg_setting(c, "max_connections"),
            pg_setting(c, "superuser_reserved_connections").unwrap_or(3),
        )),
        DbConn::Sqlite(_) => None,
    }
}

/// Opens an existing SQLite file (not through the pool: backups and restores work on files).
pub fn open_sqlite_file(path: &str) -> anyhow::Result<SqliteConnection> {
    let path = path.trim_start_matches("sqlite://");
    ensure!(Path::new(path).exists(), "{path} does not exist");
    let mut c = SqliteConnection::establish(path).with_context(|| format!("opening {path}"))?;
    c.batch_execute("PRAGMA busy_timeout = 10000;")?;
    Ok(c)
}

/// An online, consistent copy of the database into `out` (a new file).
pub fn vacuum_into(c: &mut SqliteConnection, out: &str) -> Result<(), diesel::result::Error> {
    let out = out.replace('\'', "''");
    c.batch_execute(&format!("VACUUM INTO '{out}'"))
}

/// `ok`, or what SQLite found wrong with the file.
pub fn integrity_check(c: &mut SqliteConnection) -> Result<String, diesel::result::Error> {
    #[derive(QueryableByName)]
    struct Check {
        #[diesel(sql_type = Text)]
        integrity_check: String,
    }
    Ok(diesel::sql_query("PRAGMA integrity_check")
        .get_result::<Check>(c)?
        .integrity_check)
}

/// Rows in `table` (a name from our own schema, never user input).
pub fn count_rows(c: &mut SqliteConnection, table: &str) -> anyhow::Result<i64> {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    Ok(
        diesel::sql_query(format!("SELECT count(*) AS n FROM {table}"))
            .get_result::<N>(c)?
            .n,
    )
}
