//! Real `buko` processes for multi-node tests: a shared PostgreSQL database and Redis, nodes started
//! as child processes (so one can be killed with SIGKILL), and a small API client.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::Connection;

pub fn postgres_admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A fresh PostgreSQL database and data directory shared by the nodes of one test.
pub struct Cluster {
    pub database_url: String,
    pub redis_url: String,
    pub dir: tempfile::TempDir,
    admin_url: String,
    db_name: String,
    pub extra_env: Vec<(String, String)>,
}

impl Cluster {
    pub fn new() -> Cluster {
        let admin_url = postgres_admin_url();
        let db_name = format!("buko_cluster_{}", uuid::Uuid::new_v4().simple());
        let mut c = diesel::PgConnection::establish(&admin_url).expect("PostgreSQL reachable");
        c.batch_execute(&format!("CREATE DATABASE \"{db_name}\""))
            .expect("create database");
        let (base, _) = admin_url.rsplit_once('/').expect("url with a path");
        Cluster {
            database_url: format!("{base}/{db_name}"),
            redis_url: redis_url(),
            dir: tempfile::tempdir().expect("tmp"),
            admin_url,
            db_name,
            extra_env: vec![],
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        self.command_of(env!("CARGO_BIN_EXE_buko"), args)
    }

    /// `program args` with the environment the cluster's nodes get.
    pub fn command_of(&self, program: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new(program);
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", &self.database_url)
            .env("REDIS_URL", &self.redis_url)
            .env(
                "BUKO_SECRET_KEY",
                "cluster-test-secret-key-0123456789abcdef",
            )
            .env("BUKO_DATA_DIR", self.dir.path())
            .env("BUKO_HTTP_WORKERS", "1")
            .env("BUKO_LLM_PROVIDER", "offline")
            .env("RUST_LOG", "info");
        for (k, v) in &self.extra_env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs a `buko` subcommand to completion and returns its stdout.
    pub fn run(&self, args: &[&str]) -> String {
        let out = self.command(args).output().expect("run buko");
        assert!(
            out.status.success(),
            "buko {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// A user with an API key (on a plan without hourly limits unless `plan` says otherwise).
    pub fn api_key(&self, email: &str) -> String {
        self.run(&[
            "admin",
            "create-user",
            "--email",
            email,
            "--password",
            "cluster test password",
        ]);
        self.run(&["admin", "create-api-key", "--email", email])
    }

    pub fn start_node(&self, name: &str, args: &[&str], env: &[(&str, &str)]) -> Node {
        let port = free_port();
        let log_path = self.dir.path().join(format!("{name}.log"));
        let log = std::fs::File::create(&log_path).expect("log file");
        let mut cmd = self.command(&[&["serve"], args].concat());
        cmd.env("BUKO_BIND", format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(log);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("spawn buko serve");
        Node {
            child: Some(child),
            base: format!("http://127.0.0.1:{port}"),
            port,
            log_path,
        }
    }

    pub fn db(&self) -> diesel::PgConnection {
        self.db_direct(&self.database_url)
    }

    /// A connection to `url` (the cluster's database reached some other way, e.g. past a pooler).
    pub fn db_direct(&self, url: &str) -> diesel::PgConnection {
        diesel::PgConnection::establish(url).expect("cluster database")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Ok(mut c) = diesel::PgConnection::establish(&self.admin_url) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.db_name
            ));
        }
    }
}

pub struct Node {
    child: Option<Child>,
    pub base: String,
    pub port: u16,
    pub log_path: PathBuf,
}

impl Node {
    pub async fn wait_ready(&self) {
        let client = awc::Client::default();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(res) = client
                .get(format!("{}/health/ready", self.base))
                .send()
                .await
            {
                if res.status().is_success() {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "node {} not ready; log:\n{}",
                self.base,
                self.log()
            );
            actix_web::rt::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Sends SIGTERM (the node drains and exits by itself).
    pub fn sigterm(&self) {
        let child = self.child.as_ref().expect("running");
        let sent = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill");
        assert!(sent.success(), "kill -TERM");
    }

    /// Waits up to `within` for the process to exit by itself: `true` if it did (if not, it is
    /// killed).
    pub async fn wait_exit(&mut self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(Ok(Some(_))) = self.child.as_mut().map(|c| c.try_wait()) {
                self.child = None;
                return true;
            }
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
        self.kill9();
        false
    }

    /// SIGKILL: no shutdown hooks, no lease release — a crashed machine.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// JSON over HTTP with an API key.
pub struct Api {
    pub base: String,
    pub key: String,
    http: awc::Client,
}

impl Api {
    pub fn new(node: &Node, key: &str) -> Api {
        Api::at(&node.base, key, None)
    }

    /// A client of `base` (a node or a proxy), connecting from `local` when given (any 127.0.0.0/8
    /// address works on loopback: distinct "client machines" for per-IP limits).
    pub fn at(base: &str, key: &str, local: Option<std::net::IpAddr>) -> Api {
        let mut connector = awc::Connector::new();
        if let Some(ip) = local {
            connector = connector.local_address(ip);
        }
        let http = awc::Client::builder()
            .connector(connector)
            .timeout(Duration::from_secs(30))
            .finish();
        Api {
            base: base.to_string(),
            key: key.to_string(),
            http,
        }
    }

    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        self.call_with(method, path, body, &[]).await
    }

    /// [`Api::call`] with extra request headers.
    pub async fn call_with(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
        headers: &[(&str, &str)],
    ) -> (u16, serde_json::Value) {
        let m = awc::http::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self
            .http
            .request(m, format!("{}{}", self.base, path))
            .insert_header(("x-api-key", self.key.as_str()));
        for (k, v) in headers {
            req = req.insert_header((*k, *v));
        }
        let res = match body {
            Some(b) => req.send_json(&b).await,
            None => req.send().await,
        };
        let mut res = res.expect("request sent");
        let bytes = res.body().limit(32 * 1024 * 1024).await.expect("body");
        let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        (res.status().as_u16(), json)
    }

    pub async fn create_book(&self, pages: u32) -> String {
        let (status, body) = self
            .call("POST", "/api/v1/books", Some(serde_json::json!({ "idea": "A cartographer maps a city that rearranges itself every night", "language": "en", "target_pages": pages })))
            .await;
        assert_eq!(status, 202, "{body}");
        body["id"].as_str().expect("id").to_string()
    }

    pub async fn book(&self, id: &str) -> serde_json::Value {
        let (status, body) = self.call("GET", &format!("/api/v1/books/{id}"), None).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Polls until the book's status is one of `wanted` (panics on timeout with the last state).
    pub async fn wait_status(
        &self,
        id: &str,
        wanted: &[&str],
        timeout: Duration,
    ) -> serde_json::Value {
        let deadline = Instant::now() + timeout;
        loop {
            let book = self.book(id).await;
            if wanted.contains(&book["status"].as_str().unwrap_or("")) {
                return book;
            }
            assert!(
                Instant::now() < deadline,
                "book {id} never reached {wanted:?}: {book}"
            );
            actix_web::rt::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// Creates a book, waits for its architecture and approves it.
    pub async fn approved_book(&self, pages: u32) -> String {
        let id = self.create_book(pages).await;
        self.wait_status(&id, &["architecture_ready"], Duration::from_secs(60))
            .await;
        let (status, body) = self
            .call("POST", &format!("/api/v1/books/{id}/approve"), None)
            .await;
        assert_eq!(status, 202, "{body}");
        id
    }
}
