//! Typed settings read once from the environment at start. Every variable is documented in README.md;
//! secrets are held in [`Secret`] so `Debug` and logs never show them.

use std::path::PathBuf;
use std::str::FromStr;

use crate::llm::LlmSettings;
use crate::secret::Secret;

#[derive(Clone, Debug)]
pub struct Settings {
    /// `DATABASE_URL`: `postgres://…` or a SQLite path; default `<data dir>/buko.db`.
    pub database_url: Secret,
    /// `REDIS_URL`: enables cross-node progress, shared rate limits and online users.
    pub redis_url: Option<Secret>,
    /// `BUKO_BIND`: address to listen on (default `127.0.0.1:8080`; port 0 picks a free port).
    pub bind: String,
    /// `BUKO_SECRET_KEY`: ≥ 32 bytes keying the session cookie; generated and kept in the data dir if unset.
    pub secret_key: Option<Secret>,
    /// `BUKO_DATA_DIR`: SQLite file, generated secret, exports cache, e-mail outbox (default `./data`).
    pub data_dir: PathBuf,
    /// `BUKO_DB_POOL_SIZE`: connections per node (default 16).
    pub db_pool_size: u32,
    /// `BUKO_HTTP_WORKERS`: HTTP worker threads (default: number of CPUs).
    pub http_workers: usize,
    /// `BUKO_COOKIE_SECURE`: mark cookies `Secure` (set behind HTTPS; default false).
    pub cookie_secure: bool,
    /// `BUKO_REGISTRATION`: allow self-registration (default true).
    pub registration_open: bool,
    /// `BUKO_LOGIN_MAX_FAILURES`: failed logins before a temporary lockout (default 5).
    pub login_max_failures: i32,
    /// `BUKO_LOGIN_LOCKOUT_SECS`: lockout duration (default 900).
    pub login_lockout_secs: i64,
    /// `BUKO_API_KEY_RATE_LIMIT`: requests per minute per API key unless the key has its own
    /// `rate_limit_per_minute` (default 120).
    pub api_key_rate_limit_per_minute: u64,
    /// The LLM provider and its settings (see the LLM table in README.md).
    pub llm: LlmSettings,
    /// Cover art provider (`BUKO_IMAGE_*`).
    pub images: crate::images::ImageSettings,
    /// `BUKO_NODE_ID`: this node's name in job locks and Redis messages (default: host name, process id
    /// and a random suffix, so a restarted node never mistakes its predecessor's leases for its own).
    pub node_id: String,
    /// Job workers: lease, heartbeat, sweeper, per-queue concurrency and time limits (`BUKO_JOB_*`,
    /// `BUKO_WORKERS_*`; see `queue::settings`).
    pub queue: crate::queue::QueueSettings,
    /// Per-IP and per-endpoint request limits (`BUKO_RATE_IP_PER_MIN`, `BUKO_RATE_ENDPOINT_PER_MIN`).
    pub http_limits: HttpLimits,
    /// Outgoing mail (`BUKO_SMTP_*`, `BUKO_MAIL_FROM`, `BUKO_PUBLIC_URL`; see `email`).
    pub mail: crate::email::MailSettings,
    /// `BUKO_ALLOWED_ORIGINS`: comma-separated origins (`https://app.example.com`) whose pages may open
    /// the WebSocket, besides `BUKO_PUBLIC_URL` and the site's own host (see `ws::origin`).
    pub allowed_origins: Vec<String>,
    /// Running several nodes: trusted proxies, direct database URL, operations token and listener,
    /// shutdown grace (`BUKO_TRUSTED_PROXIES`, `BUKO_DATABASE_DIRECT_URL`, `BUKO_OPS_*`; see `ops`).
    pub ops: crate::ops::OpsSettings,
    /// Payment providers and provider plan ids (`PAYPAL_*`, `MP_*`, `BUKO_PLAN_*`; see `payments`).
    pub payments: crate::payments::PaymentSettings,
}

/// Why the settings could not be read; the message names the variable and what was wrong with it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name}={value:?} is not a valid value")]
    Invalid { name: &'static str, value: String },
    #[error(transparent)]
    Llm(#[from] crate::llm::SettingsError),
    #[error(transparent)]
    Queue(#[from] crate::queue::QueueSettingsError),
    #[error(transparent)]
    Mail(#[from] crate::email::MailSettingsError),
    #[error(transparent)]
    Ops(#[from] crate::ops::OpsSettingsError),
    #[error(transparent)]
    Payments(#[from] crate::payments::PaymentSettingsError),
    #[error(transparent)]
    Images(#[from] crate::images::ImageSettingsError),
}

impl Settings {
    pub fn from_env() -> Result<Settings, ConfigError> {
        let data_dir = PathBuf::from(var("BUKO_DATA_DIR").unwrap_or_else(|| "./data".into()));
        let database_url = var("DATABASE_URL")
            .unwrap_or_else(|| data_dir.join("buko.db").to_string_lossy().into_owned());
        Ok(Settings {
            database_url: Secret::new(database_url),
            redis_url: var("REDIS_URL").map(Secret::new),
            bind: var("BUKO_BIND").unwrap_or_else(|| "127.0.0.1:8080".into()),
            secret_key: var("BUKO_SECRET_KEY").map(Secret::new),
            data_dir,
            db_pool_size: parse("BUKO_DB_POOL_SIZE", 16)?,
            http_workers: parse(
                "BUKO_HTTP_WORKERS",
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            )?,
            cookie_secure: parse("BUKO_COOKIE_SECURE", false)?,
            registration_open: parse("BUKO_REGISTRATION", true)?,
            login_max_failures: parse("BUKO_LOGIN_MAX_FAILURES", 5)?,
            login_lockout_secs: parse("BUKO_LOGIN_LOCKOUT_SECS", 900)?,
            api_key_rate_limit_per_minute: parse("BUKO_API_KEY_RATE_LIMIT", 120)?,
            llm: LlmSettings::from_env()?,
            images: crate::images::ImageSettings::from_env()?,
            node_id: var("BUKO_NODE_ID").unwrap_or_else(default_node_id),
            queue: crate::queue::QueueSettings::from_env()?,
            mail: crate::email::MailSettings::from_env()?,
            allowed_origins: var("BUKO_ALLOWED_ORIGINS")
                .map(|v| {
                    v.split(',')
                        .map(|o| o.trim().trim_end_matches('/').to_string())
                        .filter(|o| !o.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            ops: crate::ops::OpsSettings::from_env()?,
            payments: crate::payments::PaymentSettings::from_env()?,
            http_limits: http_limits_from_env(),
        })
    }
}

/// Per-IP and per-endpoint HTTP request limits (the `limits::http` middleware), per minute; `0` disables one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HttpLimits {
    /// `BUKO_RATE_IP_PER_MIN` (default 300).
    pub per_ip_per_minute: u64,
    /// `BUKO_RATE_ENDPOINT_PER_MIN` (default 1000).
    pub per_endpoint_per_minute: u64,
    /// `BUKO_RATE_IP_OTHER_PER_MIN` (default 3000): every other request (pages, static files,
    /// unmatched paths) per IP, so no client can send without bound.
    pub other_per_ip_per_minute: u64,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            per_ip_per_minute: 300,
            per_endpoint_per_minute: 1000,
            other_per_ip_per_minute: 3000,
        }
    }
}

/// An unparsable limit keeps its default (as before these moved here), so a typo never locks the
/// API out.
fn http_limits_from_env() -> HttpLimits {
    let read = |name: &str, default: u64| {
        var(name)
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(default)
    };
    let d = HttpLimits::default();
    HttpLimits {
        per_ip_per_minute: read("BUKO_RATE_IP_PER_MIN", d.per_ip_per_minute),
        per_endpoint_per_minute: read("BUKO_RATE_ENDPOINT_PER_MIN", d.per_endpoint_per_minute),
        other_per_ip_per_minute: read("BUKO_RATE_IP_OTHER_PER_MIN", d.other_per_ip_per_minute),
    }
}

fn default_node_id() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| var("HOSTNAME"))
        .unwrap_or_else(|| "node".into());
    let suffix = &uuid::Uuid::new_v4().simple().to_string()[..6];
    format!("{host}-{}-{suffix}", std::process::id())
}

/// A set, non-empty variable.
fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn parse<T: FromStr>(name: &'static str, default: T) -> Result<T, ConfigError> {
    match var(name) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse()
            .map_err(|_| ConfigError::Invalid { name, value: v }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_secrets() {
        let s = Settings {
            database_url: Secret::new("postgres://u:hunter2@db/buko"),
            redis_url: Some(Secret::new("redis://:pw@r")),
            bind: "x".into(),
            secret_key: Some(Secret::new("k".repeat(40))),
            data_dir: "d".into(),
            db_pool_size: 1,
            http_workers: 1,
            cookie_secure: false,
            registration_open: true,
            login_max_failures: 5,
            login_lockout_secs: 1,
            api_key_rate_limit_per_minute: 120,
            llm: LlmSettings::from_lookup(|k| {
                (k == "ANTHROPIC_API_KEY").then(|| "sk-ant-hidden".to_string())
            })
            .expect("llm settings"),
            images: Default::default(),
            node_id: "n".into(),
            queue: Default::default(),
            mail: Default::default(),
            allowed_origins: vec![],
            ops: Default::default(),
            payments: Default::default(),
            http_limits: Default::default(),
        };
        let shown = format!("{s:?}");
        assert!(!shown.contains("hunter2") && !shown.contains("pw@") && !shown.contains("kkkk"));
        assert!(!shown.contains("sk-ant-hidden"));
    }

    #[test]
    fn errors_name_the_variable_and_value() {
        let e = ConfigError::Invalid {
            name: "BUKO_DB_POOL_SIZE",
            value: "many".into(),
        };
        assert_eq!(
            e.to_string(),
            "BUKO_DB_POOL_SIZE=\"many\" is not a valid value"
        );
    }
}
