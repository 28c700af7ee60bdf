//! `buko doctor`: checks a node's deployment and prints one verdict per line (`--json` for
//! automation); the exit status is non-zero when any check fails. Each check says what it found and,
//! when it is not fine, what to change. Nothing is modified (migrations are reported, not applied).

use std::time::Duration;

use serde::Serialize;

use crate::config::Settings;
use crate::db::{self, Backend};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Ok,
    Warn,
    Fail,
    Skip,
}

#[derive(Clone, Debug, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub verdict: Verdict,
    pub detail: String,
}

fn check(name: &'static str, verdict: Verdict, detail: impl Into<String>) -> Check {
    Check {
        name,
        verdict,
        detail: detail.into(),
    }
}

#[derive(clap::Args, Debug, Default)]
pub struct DoctorArgs {
    /// Print one JSON document instead of lines.
    #[arg(long)]
    pub json: bool,
    /// Also make a 1-token call to the configured LLM provider (costs a fraction of a cent).
    #[arg(long)]
    pub llm_call: bool,
}

/// Runs every check; prints them; returns whether none failed.
pub async fn run(settings: &Settings, args: &DoctorArgs) -> bool {
    let checks = checks(settings, args.llm_call).await;
    let ok = checks.iter().all(|c| c.verdict != Verdict::Fail);
    if args.json {
        let doc = serde_json::json!({ "ok": ok, "checks": checks });
        println!("{doc}");
    } else {
        for c in &checks {
            let tag = match c.verdict {
                Verdict::Ok => "ok  ",
                Verdict::Warn => "WARN",
                Verdict::Fail => "FAIL",
                Verdict::Skip => "skip",
            };
            println!("[{tag}] {:<12} {}", c.name, c.detail);
        }
        println!(
            "{}",
            if ok {
                "doctor: no failures"
            } else {
                "doctor: FAILED"
            }
        );
    }
    ok
}

pub async fn checks(settings: &Settings, llm_call: bool) -> Vec<Check> {
    let mut out = database_checks(settings).await;
    out.push(redis_check(settings).await);
    out.push(file_limit_check(settings));
    out.push(llm_check(settings, llm_call).await);
    out.push(secret_check(settings));
    out.push(smtp_check(settings).await);
    out.push(disk_check(settings));
    out
}

/// Reachable, migrations current, connection budget.
async fn database_checks(settings: &Settings) -> Vec<Check> {
    let url = settings.ops.session_url(&settings.database_url).to_string();
    let backend = Backend::from_url(&url);
    let pool_size = settings.db_pool_size;
    let (nodes, pooled) = (settings.ops.expected_nodes, settings.ops.pooled());
    let probe = actix_web::rt::task::spawn_blocking(move || {
        let mut conn = r2d2::ManageConnection::connect(&db::ConnectionManager::new(&url))
            .map_err(|e| e.to_string())?;
        db::inspect::ping(&mut conn).map_err(|e| e.to_string())?;
        let pending = db::inspect::pending_migrations(&mut conn);
        let budget = db::inspect::pg_connection_limits(&mut conn)
            .map(|(max, reserved)| pg_budget(max, reserved, pool_size, nodes, pooled));
        Ok::<_, String>((pending, budget))
    });
    let name = match backend {
        Backend::Postgres => "PostgreSQL",
        Backend::Sqlite => "SQLite",
    };
    let (pending, budget) = match tokio::time::timeout(Duration::from_secs(15), probe).await {
        Ok(Ok(Ok(found))) => found,
        Ok(Ok(Err(e))) => {
            return vec![check(
                "database",
                Verdict::Fail,
                format!("{name} unreachable: {e}"),
            )]
        }
        _ => {
            return vec![check(
                "database",
                Verdict::Fail,
                format!("{name} did not answer in 15 s"),
            )]
        }
    };
    let mut out = vec![check("database", Verdict::Ok, format!("{name} reachable"))];
    out.push(match pending {
        Ok(0) => check("migrations", Verdict::Ok, "current"),
        Ok(n) => check(
            "migrations",
            Verdict::Warn,
            format!("{n} pending: `buko migrate` (nodes also apply them at start)"),
        ),
        Err(e) => check("migrations", Verdict::Fail, format!("cannot read: {e}")),
    });
    out.push(budget.unwrap_or_else(|| {
        check(
            "connections",
            if nodes > 1 {
                Verdict::Fail
            } else {
                Verdict::Ok
            },
            if nodes > 1 {
                format!("SQLite serves one node; BUKO_EXPECTED_NODES={nodes} needs PostgreSQL")
            } else {
                "SQLite, one node".to_string()
            },
        )
    }));
    out
}

/// Per node: the pool plus one LISTEN connection. Through a pooler the server sees the pooler's
/// server pool plus the nodes' direct listeners instead (see docs/DEPLOY.md, "Connection budget").
fn pg_budget(max: Option<i64>, reserved: i64, pool: u32, nodes: u32, pooled: bool) -> Check {
    let Some(max) = max else {
        return check("connections", Verdict::Warn, "cannot read max_connections");
    };
    let usable = max - reserved;
    let (nodes, pool) = (i64::from(nodes), i64::from(pool));
    if pooled {
        let direct = nodes * 2;
        let verdict = if direct < usable {
            Verdict::Ok
        } else {
            Verdict::Fail
        };
        return check(
            "connections",
            verdict,
            format!(
                "through a pooler: {nodes} node(s) × 1 listener (+1 while migrating) = {direct} direct \
                 + the pooler's server pool, of {usable} usable (max_connections {max} − {reserved} reserved)"
            ),
        );
    }
    let need = nodes * (pool + 1);
    let verdict = if need <= usable * 9 / 10 {
        Verdict::Ok
    } else if need <= usable {
        Verdict::Warn
    } else {
        Verdict::Fail
    };
    let advice = if verdict == Verdict::Ok {
        String::new()
    } else {
        "; lower BUKO_DB_POOL_SIZE or put PgBouncer in front (docs/DEPLOY.md)".into()
    };
    check(
        "connections",
        verdict,
        format!(
            "{nodes} node(s) × (pool {pool} + 1 listener) = {need} of {usable} usable \
             (max_connections {max} − {reserved} reserved){advice}"
        ),
    )
}

async fn redis_check(settings: &Settings) -> Check {
    let Some(url) = &settings.redis_url else {
        return check(
            "redis",
            if settings.ops.expected_nodes > 1 {
                Verdict::Fail
            } else {
                Verdict::Skip
            },
            "REDIS_URL unset: limits, presence and progress are local to each node",
        );
    };
    let probe = async {
        let client = redis::Client::open(url.expose()).map_err(|e| e.to_string())?;
        let mut c = client
            .get_multiplexed_async_connection()
            .await
            .map_err(|e| e.to_string())?;
        let _: String = redis::cmd("PING")
            .query_async(&mut c)
            .await
            .map_err(|e| e.to_string())?;
        let mut config = Vec::new();
        for key in ["maxclients", "maxmemory-policy"] {
            // Managed Redis may refuse CONFIG: the figure is then unknown, not a failure.
            let pair: Vec<String> = redis::cmd("CONFIG")
                .arg("GET")
                .arg(key)
                .query_async(&mut c)
                .await
                .unwrap_or_default();
            config.push(pair.get(1).cloned());
        }
        let policy = config.pop().flatten();
        let clients = config.pop().flatten();
        Ok::<_, String>((clients, policy))
    };
    match tokio::time::timeout(Duration::from_secs(5), probe).await {
        Err(_) => check("redis", Verdict::Fail, "unreachable: no answer in 5 s"),
        Ok(Err(e)) => check("redis", Verdict::Fail, format!("unreachable: {e}")),
        Ok(Ok((clients, policy))) => {
            let clients = clients.unwrap_or_else(|| "?".into());
            let policy = policy.unwrap_or_else(|| "?".into());
            // Limit windows and presence are keys: a policy that may evict any key can forget them.
            if policy.starts_with("allkeys") {
                check(
                    "redis",
                    Verdict::Warn,
                    format!(
                        "reachable; maxclients {clients}; maxmemory-policy {policy} may evict rate-limit \
                         keys: use noeviction or volatile-*"
                    ),
                )
            } else {
                check(
                    "redis",
                    Verdict::Ok,
                    format!("reachable; maxclients {clients}; maxmemory-policy {policy}"),
                )
            }
        }
    }
}

/// Each WebSocket holds a file descriptor; the rest (database, Redis, files, listeners) needs a margin.
fn file_limit_check(settings: &Settings) -> Check {
    const MARGIN: u64 = 1024;
    let target = settings.ops.ws_target;
    match super::system::open_file_limit() {
        None => check("files", Verdict::Warn, "cannot read the open-file limit"),
        Some((soft, hard)) if soft < target + MARGIN => check(
            "files",
            Verdict::Fail,
            format!(
                "open-file limit {soft} (hard {hard}) is below {} needed for BUKO_WS_TARGET={target} \
                 WebSockets: raise it (ulimit -n, LimitNOFILE=, or the container's nofile ulimit)",
                target + MARGIN
            ),
        ),
        Some((soft, _)) => check(
            "files",
            Verdict::Ok,
            format!("open-file limit {soft} ≥ {} for {target} WebSockets", target + MARGIN),
        ),
    }
}

async fn llm_check(settings: &Settings, call: bool) -> Check {
    let provider = crate::llm::build_provider(&settings.llm);
    let what = format!("{} / {}", provider.provider(), provider.model());
    if provider.is_demo() {
        return check(
            "llm",
            Verdict::Warn,
            format!("{what}: offline demo writer (no provider key set)"),
        );
    }
    if !call {
        return check(
            "llm",
            Verdict::Ok,
            format!("{what} configured (add --llm-call to test it)"),
        );
    }
    use buko_actors::ports::{CallPurpose, CompletionRequest, LlmEvent, Message, Role};
    use futures_util::StreamExt;
    let request = CompletionRequest {
        purpose: CallPurpose::Summary,
        system: String::new(),
        messages: vec![Message {
            role: Role::User,
            content: "Reply with the word ok.".into(),
        }],
        max_tokens: 1,
        temperature: None,
        context: Default::default(),
    };
    let mut stream = provider.stream(request);
    let answered = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(event) = stream.next().await {
            match event {
                Ok(LlmEvent::Finished { .. }) => return Ok(()),
                Ok(LlmEvent::TextDelta(_)) | Ok(LlmEvent::Usage(_)) => {}
                Err(e) => return Err(e.to_string()),
            }
        }
        Err("the stream ended without finishing".to_string())
    })
    .await;
    match answered {
        Ok(Ok(())) => check(
            "llm",
            Verdict::Ok,
            format!("{what} answered a 1-token call"),
        ),
        Ok(Err(e)) => check("llm", Verdict::Fail, format!("{what}: {e}")),
        Err(_) => check("llm", Verdict::Fail, format!("{what}: no answer in 30 s")),
    }
}

fn secret_check(settings: &Settings) -> Check {
    match &settings.secret_key {
        Some(k) if k.expose().len() >= 32 => check(
            "secret",
            Verdict::Ok,
            "BUKO_SECRET_KEY set (give every node the same value)",
        ),
        Some(_) => check("secret", Verdict::Fail, "BUKO_SECRET_KEY is shorter than 32 bytes"),
        None if settings.ops.expected_nodes > 1 => check(
            "secret",
            Verdict::Fail,
            "BUKO_SECRET_KEY unset: each node would generate its own key and reject the others' sessions",
        ),
        None => check(
            "secret",
            Verdict::Warn,
            "BUKO_SECRET_KEY unset: a key is generated into the data directory (one node only)",
        ),
    }
}

async fn smtp_check(settings: &Settings) -> Check {
    let mail = settings.mail.clone();
    let probe = actix_web::rt::task::spawn_blocking(move || mail.test_connection());
    match tokio::time::timeout(Duration::from_secs(15), probe).await {
        Ok(Ok(Ok(None))) => check(
            "smtp",
            Verdict::Warn,
            "not configured: mail goes to <data dir>/outbox",
        ),
        Ok(Ok(Ok(Some(())))) => check("smtp", Verdict::Ok, "server answered"),
        Ok(Ok(Err(e))) => check("smtp", Verdict::Fail, format!("unreachable: {e}")),
        _ => check("smtp", Verdict::Fail, "no answer in 15 s"),
    }
}

/// Exports are cached in the data directory; a nearly full disk also stops SQLite.
fn disk_check(settings: &Settings) -> Check {
    const GIB: u64 = 1 << 30;
    let dir = &settings.data_dir;
    let _ = std::fs::create_dir_all(dir);
    match super::system::disk_space(dir) {
        None => check(
            "disk",
            Verdict::Warn,
            format!("cannot read free space of {}", dir.display()),
        ),
        Some((free, total)) => {
            let (free_gib, pct) = (
                free as f64 / GIB as f64,
                free as f64 * 100.0 / total.max(1) as f64,
            );
            let detail = format!(
                "{free_gib:.1} GiB free ({pct:.0} %) under {}",
                dir.display()
            );
            let verdict = if free < GIB / 4 {
                Verdict::Fail
            } else if free < 2 * GIB || pct < 10.0 {
                Verdict::Warn
            } else {
                Verdict::Ok
            };
            check("disk", verdict, detail)
        }
    }
}
