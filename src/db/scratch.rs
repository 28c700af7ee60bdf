//! Throw-away databases for the benchmark programs: a fresh PostgreSQL database beside the given
//! server URL (dropped when the guard goes), or a fresh SQLite file (its old files removed first).

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

use super::Backend;

#[derive(Debug, thiserror::Error)]
pub enum ScratchError {
    #[error("connect to PostgreSQL: {0}")]
    Connect(#[from] diesel::ConnectionError),
    #[error("create the database: {0}")]
    Create(#[from] diesel::result::Error),
    #[error("a PostgreSQL URL needs a path (…/postgres): {0}")]
    NoPath(String),
}

/// A database that exists for one run.
pub struct ScratchDb {
    url: String,
    admin: Option<(String, String)>,
}

impl ScratchDb {
    /// `base` is a SQLite file path or a PostgreSQL URL; on PostgreSQL a database named
    /// `{prefix}_{random}` is created on that server.
    pub fn create(base: &str, prefix: &str) -> Result<ScratchDb, ScratchError> {
        if Backend::from_url(base) == Backend::Sqlite {
            for ext in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{base}{ext}"));
            }
            return Ok(ScratchDb {
                url: base.to_string(),
                admin: None,
            });
        }
        let (server, _) = base
            .rsplit_once('/')
            .ok_or_else(|| ScratchError::NoPath(base.to_string()))?;
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        PgConnection::establish(base)?.batch_execute(&format!("CREATE DATABASE \"{name}\""))?;
        Ok(ScratchDb {
            url: format!("{server}/{name}"),
            admin: Some((base.to_string(), name)),
        })
    }

    /// The URL to open the scratch database with.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.admin {
            if let Ok(mut c) = PgConnection::establish(admin) {
                let _ =
                    c.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
            }
        }
    }
}
