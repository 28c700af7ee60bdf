//! Nodes as real processes (`buko serve`, `buko serve --no-worker`, `buko worker`) sharing one database,
//! for the multi-node and crash tests. [`Node`] is the helper the whole-system tests build on: spawn
//! with env vars, wait until live, `kill9` to simulate a crash.
#![allow(dead_code)]

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use buko::db::schema::jobs;
use buko::queue::{enqueue, JobPayload, NewJob};
use diesel::prelude::*;

use crate::helpers::Client;
use crate::redis_support::free_port;

pub struct Node {
    pub base: String,
    pub port: u16,
    pub data_dir: tempfile::TempDir,
    child: Option<Child>,
}

impl Node {
    /// Starts `buko <args>` on a free port with its own data dir; `env` adds or overrides variables
    /// (`DATABASE_URL`, `REDIS_URL`, `BUKO_WORKERS_BOOK`, …). Returns once `/health/live` answers.
    pub async fn spawn(args: &[&str], env: &HashMap<String, String>) -> Node {
        let port = free_port();
        let data_dir = tempfile::tempdir().expect("temp dir");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_buko"));
        cmd.args(args)
            .env("BUKO_BIND", format!("127.0.0.1:{port}"))
            .env("BUKO_DATA_DIR", data_dir.path())
            .env(
                "BUKO_SECRET_KEY",
                "test-secret-key-that-is-long-enough-0123456789",
            )
            .env("BUKO_HTTP_WORKERS", "1")
            .env("BUKO_JOB_POLL_MS", "200")
            .env_remove("REDIS_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("spawn buko");
        let node = Node {
            base: format!("http://127.0.0.1:{port}"),
            port,
            data_dir,
            child: Some(child),
        };
        let start = Instant::now();
        let http = awc::Client::default();
        loop {
            if let Ok(r) = http.get(format!("{}/health/live", node.base)).send().await {
                if r.status().is_success() {
                    return node;
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "node did not start"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `kill -9`: no shutdown code runs, leases are left to expire.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn client(&self) -> Client {
        Client::for_base(&self.base)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill9();
    }
}

#[actix_web::test]
async fn a_worker_node_and_a_web_only_node_split_the_work() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (settings, pg) = crate::helpers::test_settings(dir.path());
    // Declared before the nodes so it drops after them.
    let _db = pg_guard(pg);
    let url = settings.database_url.expose().to_string();
    let env = HashMap::from([("DATABASE_URL".to_string(), url.clone())]);
    let web = Node::spawn(&["serve", "--no-worker"], &env).await;
    let worker = Node::spawn(&["worker"], &env).await;

    let ready = web.client().get("/health/ready").await;
    assert_eq!(
        ready.json()["checks"]["queue"]["workers"],
        false,
        "{}",
        ready.body
    );
    let ready = worker.client().get("/health/ready").await;
    assert_eq!(ready.status, 200, "{}", ready.body);
    assert_eq!(ready.json()["checks"]["queue"]["workers"], true);
    // The worker node serves no pages.
    assert_eq!(worker.client().get("/login").await.status, 404);
    assert_eq!(web.client().get("/login").await.status, 200);

    let mut c =
        r2d2::ManageConnection::connect(&buko::db::ConnectionManager::new(&url)).expect("connect");
    let book = crate::queue_app::add_book_in(&mut c, "Shared", "en");
    enqueue(
        &mut c,
        NewJob::now(JobPayload::BookCompletedEmail {
            book_id: book.clone(),
        }),
    )
    .expect("enqueue");
    let outbox = worker.data_dir.path().join("outbox");
    let start = Instant::now();
    while std::fs::read_dir(&outbox).map_or(0, |d| d.count()) == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the worker node sent nothing"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!web.data_dir.path().join("outbox").exists());
}

/// Drops a PostgreSQL test database once the nodes are gone.
pub fn pg_guard(pg: Option<(String, String)>) -> impl Drop {
    struct G(Option<(String, String)>);
    impl Drop for G {
        fn drop(&mut self) {
            use diesel::connection::SimpleConnection;
            use diesel::Connection;
            if let Some((admin, name)) = self.0.take() {
                if let Ok(mut c) = diesel::PgConnection::establish(&admin) {
                    let _ = c
                        .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
                }
            }
        }
    }
    G(pg)
}

/// An SMTP server that accepts connections and never greets: a delivery hangs there.
fn smtp_black_hole() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    port
}

#[actix_web::test]
async fn a_job_of_a_killed_node_is_resumed_by_another_node() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (settings, pg) = crate::helpers::test_settings(dir.path());
    let _db = pg_guard(pg);
    let url = settings.database_url.expose().to_string();
    let fast = [
        ("DATABASE_URL", url.clone()),
        ("BUKO_JOB_LEASE_SECS", "3".into()),
        ("BUKO_JOB_HEARTBEAT_SECS", "1".into()),
        ("BUKO_JOB_SWEEP_SECS", "1".into()),
    ];
    let mut env_a: HashMap<String, String> = fast
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let env_b = env_a.clone();
    env_a.insert(
        "BUKO_SMTP_URL".into(),
        format!("smtp://127.0.0.1:{}", smtp_black_hole()),
    );
    let mut a = Node::spawn(&["worker"], &env_a).await;

    let mut c =
        r2d2::ManageConnection::connect(&buko::db::ConnectionManager::new(&url)).expect("connect");
    let book = crate::queue_app::add_book_in(&mut c, "Survivor", "en");
    enqueue(
        &mut c,
        NewJob::now(JobPayload::BookCompletedEmail { book_id: book }),
    )
    .expect("enqueue");
    let state = |c: &mut buko::db::DbConn| {
        jobs::table
            .select((jobs::status, jobs::locked_by, jobs::attempts))
            .first::<(String, Option<String>, i32)>(c)
            .expect("job row")
    };
    let start = Instant::now();
    while state(&mut c).0 != "running" {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "node A never claimed the job"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let owner_a = state(&mut c).1;
    let b = Node::spawn(&["worker"], &env_b).await;
    // A is stuck in SMTP, heartbeating; B must not take the job while A's lease is alive.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        state(&mut c).1,
        owner_a,
        "the job moved while its owner was alive"
    );

    a.kill9();
    let killed = Instant::now();
    while state(&mut c).0 != "completed" {
        assert!(
            killed.elapsed() < Duration::from_secs(30),
            "not resumed: {:?}",
            state(&mut c)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Lease 3 s + sweep period 1 s + poll, with slack for a loaded machine.
    assert!(
        killed.elapsed() < Duration::from_secs(10),
        "{:?}",
        killed.elapsed()
    );
    assert_eq!(state(&mut c).2, 2);
    let sent = std::fs::read_dir(b.data_dir.path().join("outbox")).map_or(0, |d| d.count());
    assert_eq!(sent, 1);
}
