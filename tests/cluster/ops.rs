//! The operations kit against a real node: alert rules pass `promtool`, the Grafana dashboard and
//! the alerts name only metrics that `/metrics` exposes, the deployment YAML lints, `buko doctor`
//! fails clearly, and a SQLite backup taken while a book is being written restores every committed
//! chunk.

use std::collections::BTreeSet;
use std::process::Command;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use futures_util::{SinkExt, StreamExt};

use super::daemons::{deploy_file, tool};
use super::node::{free_port, Api, Cluster};

fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().expect("run");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn alert_rules_pass_promtool_and_deploy_yaml_lints() {
    let (ok, out) = run(Command::new(tool("promtool"))
        .args(["check", "rules"])
        .arg(deploy_file("prometheus/alerts.yml")));
    assert!(ok, "{out}");
    let (ok, out) = run(Command::new(tool("promtool"))
        .args(["test", "rules"])
        .arg(deploy_file("prometheus/alerts_test.yml")));
    assert!(ok, "{out}");
    let (ok, out) = run(Command::new(tool("yamllint"))
        .arg("-c")
        .arg(deploy_file(".yamllint"))
        .arg(deploy_file("")));
    assert!(ok, "{out}");
}

/// `buko_…` metric names in a text (histogram series reduced to their family).
fn metric_names(text: &str) -> BTreeSet<String> {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(pos) = rest.find("buko_") {
        let glued = rest[..pos].chars().next_back().is_some_and(word);
        let tail = &rest[pos..];
        let len = tail.find(|c: char| !word(c)).unwrap_or(tail.len());
        if !glued && len > "buko_".len() {
            let name = &tail[..len];
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| name.strip_suffix(s))
                .unwrap_or(name);
            names.insert(family.to_string());
        }
        rest = &tail[len..];
    }
    names
}

#[actix_web::test]
async fn dashboard_and_alerts_name_only_exposed_metrics_and_the_ops_token_guards_them() {
    let cluster = Cluster::new();
    let token = "ops-token-for-the-scraper";
    let node = cluster.start_node("solo", &[], &[("BUKO_OPS_TOKEN", token)]);
    node.wait_ready().await;
    let key = cluster.api_key("observed@example.com");
    let api = Api::new(&node, &key);
    // A WebSocket reader too, so the WebSocket metrics exist as they do on any live node.
    let (_res, mut ws) = awc::Client::new()
        .ws(format!("ws://127.0.0.1:{}/ws?api_key={key}", node.port))
        .connect()
        .await
        .expect("websocket");
    let id = api.approved_book(10).await;
    let sub = serde_json::json!({ "type": "subscribe", "book_id": id, "after_seq": 0 });
    ws.send(awc::ws::Message::Text(sub.to_string().into()))
        .await
        .expect("subscribe");
    api.wait_status(&id, &["completed"], Duration::from_secs(120))
        .await;
    let _ = actix_web::rt::time::timeout(Duration::from_secs(2), ws.next()).await;

    let http = awc::Client::default();
    let res = http
        .get(format!("{}/metrics", node.base))
        .send()
        .await
        .expect("metrics");
    assert_eq!(res.status().as_u16(), 401, "the token is required");
    let mut ready = http
        .get(format!("{}/health/ready", node.base))
        .send()
        .await
        .expect("ready");
    let public: serde_json::Value = ready.json().await.expect("json");
    assert_eq!(
        public,
        serde_json::json!({ "status": "ready" }),
        "no detail without the token"
    );
    let mut res = http
        .get(format!("{}/metrics", node.base))
        .insert_header(("authorization", format!("Bearer {token}")))
        .send()
        .await
        .expect("metrics");
    assert_eq!(res.status().as_u16(), 200);
    let body = res.body().limit(8 << 20).await.expect("body");
    let exposed = metric_names(&String::from_utf8_lossy(&body));
    assert!(exposed.contains("buko_http_requests_total"), "{exposed:?}");

    let dashboard =
        std::fs::read_to_string(deploy_file("grafana/buko-dashboard.json")).expect("json");
    let parsed: serde_json::Value = serde_json::from_str(&dashboard).expect("valid JSON");
    let exprs: String = parsed["panels"]
        .as_array()
        .expect("panels")
        .iter()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .map(|t| t["expr"].as_str().unwrap_or("").to_string())
        .collect::<Vec<_>>()
        .join("\n");
    let used = metric_names(&exprs);
    assert!(used.len() >= 15, "the dashboard covers Buko: {used:?}");
    let missing: Vec<_> = used.difference(&exposed).collect();
    assert!(
        missing.is_empty(),
        "dashboard names metrics /metrics lacks: {missing:?}"
    );

    let alerts = std::fs::read_to_string(deploy_file("prometheus/alerts.yml")).expect("alerts");
    let used = metric_names(&alerts);
    let missing: Vec<_> = used.difference(&exposed).collect();
    assert!(
        missing.is_empty(),
        "alert rules name metrics /metrics lacks: {missing:?}"
    );
}

#[test]
fn doctor_fails_clearly_when_redis_is_away_or_the_file_limit_is_low() {
    let mut cluster = Cluster::new();
    cluster
        .extra_env
        .push(("BUKO_WS_TARGET".into(), "100".into()));
    cluster.run(&["migrate"]);
    // Through a shell, so `ulimit` lowers the limit the doctor really runs under.
    let doctor = |cluster: &Cluster, shell_prefix: &str, json: bool| {
        let exe = env!("CARGO_BIN_EXE_buko");
        let flag = if json { " --json" } else { "" };
        let out = cluster
            .command_of(
                "sh",
                &["-c", &format!("{shell_prefix}exec {exe} doctor{flag}")],
            )
            .output()
            .expect("doctor");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    // Healthy: PostgreSQL and Redis answer, the limit covers the (small) WebSocket target.
    let (ok, out) = doctor(&cluster, "ulimit -n 4096; ", false);
    assert!(ok, "{out}");
    assert!(
        out.lines().any(|l| l.starts_with("[ok  ] database")),
        "{out}"
    );
    assert!(out.lines().any(|l| l.starts_with("[ok  ] redis")), "{out}");
    assert!(
        out.lines().any(|l| l.starts_with("[ok  ] migrations")),
        "{out}"
    );
    let (ok, json) = doctor(&cluster, "ulimit -n 4096; ", true);
    let doc: serde_json::Value = serde_json::from_str(json.trim()).expect("--json is JSON");
    assert!(ok && doc["ok"] == true, "{doc}");

    // The open-file limit too low for the WebSocket target.
    let (ok, out) = doctor(&cluster, "ulimit -n 512; ", false);
    assert!(!ok, "{out}");
    let line = out
        .lines()
        .find(|l| l.starts_with("[FAIL] files"))
        .expect(&out);
    assert!(line.contains("512") && line.contains("raise it"), "{line}");

    // Redis unreachable.
    cluster.redis_url = format!("redis://127.0.0.1:{}", free_port());
    let (ok, out) = doctor(&cluster, "ulimit -n 4096; ", false);
    assert!(!ok, "{out}");
    let line = out
        .lines()
        .find(|l| l.starts_with("[FAIL] redis"))
        .expect(&out);
    assert!(line.contains("unreachable"), "{line}");
    assert!(out.contains("doctor: FAILED"), "{out}");
}

#[derive(QueryableByName, Debug, PartialEq)]
struct Chunk {
    #[diesel(sql_type = BigInt)]
    seq: i64,
    #[diesel(sql_type = Text)]
    content: String,
}

fn chunks(path: &std::path::Path, book_id: &str) -> Vec<Chunk> {
    let mut c = SqliteConnection::establish(&path.to_string_lossy()).expect("sqlite");
    diesel::sql_query("SELECT seq, text AS content FROM chunks WHERE book_id = ? ORDER BY seq")
        .bind::<Text, _>(book_id)
        .load(&mut c)
        .expect("chunks")
}

#[actix_web::test]
async fn a_backup_taken_while_a_book_is_written_restores_every_committed_chunk() {
    let mut cluster = Cluster::new();
    let live_db = cluster.dir.path().join("live.db");
    cluster.extra_env.extend([
        (
            "DATABASE_URL".into(),
            live_db.to_string_lossy().into_owned(),
        ),
        ("BUKO_OFFLINE_TOKENS_PER_SEC".into(), "400".into()),
    ]);
    let node = cluster.start_node("sqlite", &[], &[]);
    node.wait_ready().await;
    let key = cluster.api_key("careful@example.com");
    let api = Api::new(&node, &key);
    let book_id = api.approved_book(12).await;
    let deadline = Instant::now() + Duration::from_secs(90);
    while chunks(&live_db, &book_id).len() < 2 {
        assert!(Instant::now() < deadline, "no chunks; log:\n{}", node.log());
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }

    // Committed before the backup starts: these must all be in it.
    let committed = chunks(&live_db, &book_id);
    let backup = cluster.dir.path().join("backup.db");
    let out = cluster.run(&["backup", "--out", &backup.to_string_lossy()]);
    assert!(out.contains("SQLite backup written"), "{out}");
    let status = api.book(&book_id).await["status"].clone();
    assert_eq!(status, "generating", "the backup was taken mid-book");

    let restored_db = cluster.dir.path().join("restored").join("buko.db");
    let restore = cluster
        .command_of(
            env!("CARGO_BIN_EXE_buko"),
            &["restore", "--from", &backup.to_string_lossy()],
        )
        .env("DATABASE_URL", &restored_db)
        .output()
        .expect("restore");
    assert!(
        restore.status.success(),
        "{}",
        String::from_utf8_lossy(&restore.stderr)
    );
    let restored = chunks(&restored_db, &book_id);
    assert!(
        restored.len() >= committed.len(),
        "{} < {}",
        restored.len(),
        committed.len()
    );
    assert_eq!(
        &restored[..committed.len()],
        &committed[..],
        "every committed chunk, intact"
    );
    let seqs: Vec<i64> = restored.iter().map(|c| c.seq).collect();
    assert_eq!(
        seqs,
        (1..=restored.len() as i64).collect::<Vec<_>>(),
        "no gap"
    );

    // Not a backup: refused, nothing replaced.
    let junk = cluster.dir.path().join("junk.db");
    std::fs::write(&junk, b"not a database").expect("junk");
    let refused = cluster
        .command_of(
            env!("CARGO_BIN_EXE_buko"),
            &["restore", "--from", &junk.to_string_lossy()],
        )
        .env("DATABASE_URL", &restored_db)
        .output()
        .expect("restore");
    assert!(!refused.status.success());
    assert_eq!(chunks(&restored_db, &book_id).len(), restored.len());
}
