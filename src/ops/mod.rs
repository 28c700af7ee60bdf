//! Running Buko as a fleet: the deployment settings (trusted proxies, the direct database URL for
//! session features a transaction pooler breaks, the operations token and listener, the shutdown
//! grace), who may read operational detail ([`access`]), `buko doctor` ([`doctor`]) and
//! `buko backup` / `buko restore` ([`backup`]). Graceful shutdown itself is `crate::shutdown`.

pub mod access;
pub mod backup;
pub mod doctor;
pub mod listener;
pub mod system;

use std::time::Duration;

use crate::secret::Secret;
use crate::web::client_addr::{CidrError, TrustedProxies};

#[derive(Clone, Debug)]
pub struct OpsSettings {
    /// `BUKO_TRUSTED_PROXIES`: CIDR list of proxies whose `Forwarded` / `X-Forwarded-*` headers are
    /// believed (default: none).
    pub trusted_proxies: TrustedProxies,
    /// `BUKO_DATABASE_DIRECT_URL`: PostgreSQL without the pooler, for migrations (advisory lock) and
    /// the job `LISTEN` connection. Setting it declares `DATABASE_URL` a transaction pooler
    /// (PgBouncer): the pool then sends no named prepared statements.
    pub database_direct_url: Option<Secret>,
    /// `BUKO_OPS_TOKEN`: when set, `/metrics` and the detail of `/health/ready` need
    /// `Authorization: Bearer <token>` on the public listener.
    pub ops_token: Option<Secret>,
    /// `BUKO_OPS_BIND`: a second listener with `/metrics` and `/health/*` (full detail, no token);
    /// the public listener then keeps them to itself unless the token is given.
    pub ops_bind: Option<String>,
    /// `BUKO_SHUTDOWN_GRACE_SECS`: on SIGTERM, the most a node waits for running requests and jobs
    /// to let go before it exits anyway (default 8).
    pub shutdown_grace: Duration,
    /// `BUKO_EXPECTED_NODES`: how many nodes share the database, for `buko doctor`'s connection
    /// budget (default 1).
    pub expected_nodes: u32,
    /// `BUKO_WS_TARGET`: WebSocket connections one node should hold, for `buko doctor`'s open-file
    /// check (default 10000).
    pub ws_target: u64,
}

impl Default for OpsSettings {
    fn default() -> Self {
        OpsSettings {
            trusted_proxies: TrustedProxies::default(),
            database_direct_url: None,
            ops_token: None,
            ops_bind: None,
            shutdown_grace: Duration::from_secs(8),
            expected_nodes: 1,
            ws_target: 10_000,
        }
    }
}

/// A malformed fleet setting.
#[derive(Debug, thiserror::Error)]
pub enum OpsSettingsError {
    #[error("{name}={value:?} is not a valid number")]
    NotANumber { name: &'static str, value: String },
    #[error("BUKO_TRUSTED_PROXIES: {0}")]
    TrustedProxies(#[from] CidrError),
}

impl OpsSettings {
    pub fn from_lookup(
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<OpsSettings, OpsSettingsError> {
        let num = |name: &'static str, default: u64| -> Result<u64, OpsSettingsError> {
            get(name).map_or(Ok(default), |v| {
                v.trim()
                    .parse()
                    .map_err(|_| OpsSettingsError::NotANumber { name, value: v })
            })
        };
        let d = OpsSettings::default();
        Ok(OpsSettings {
            trusted_proxies: TrustedProxies::parse(
                &get("BUKO_TRUSTED_PROXIES").unwrap_or_default(),
            )?,
            database_direct_url: get("BUKO_DATABASE_DIRECT_URL").map(Secret::new),
            ops_token: get("BUKO_OPS_TOKEN").map(Secret::new),
            ops_bind: get("BUKO_OPS_BIND"),
            shutdown_grace: Duration::from_secs(num(
                "BUKO_SHUTDOWN_GRACE_SECS",
                d.shutdown_grace.as_secs(),
            )?),
            expected_nodes: num("BUKO_EXPECTED_NODES", 1)?.max(1) as u32,
            ws_target: num("BUKO_WS_TARGET", d.ws_target)?,
        })
    }

    pub fn from_env() -> Result<OpsSettings, OpsSettingsError> {
        Self::from_lookup(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
    }

    /// The URL for session-level work (migrations' advisory lock, `LISTEN`): the direct one when set.
    pub fn session_url<'a>(&'a self, database_url: &'a Secret) -> &'a str {
        self.database_direct_url
            .as_ref()
            .unwrap_or(database_url)
            .expose()
    }

    /// Whether `DATABASE_URL` goes through a transaction pooler (see `database_direct_url`).
    pub fn pooled(&self) -> bool {
        self.database_direct_url.is_some()
    }
}
