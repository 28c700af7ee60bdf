//! Security properties a user would notice: protective headers on every response, the API's own
//! answers (usage, OpenAPI document, per-key limits), and secrets never reaching the log.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use buko::db::repo;
use diesel::prelude::*;

use crate::admin::member;
use crate::helpers::{spawn_app, unique_email, Client, PASSWORD};

#[actix_web::test]
async fn security_headers_on_pages_api_and_errors() {
    let app = spawn_app().await;
    let c = Client::new(&app);
    for path in [
        "/",
        "/login",
        "/admin",
        "/api/v1/books",
        "/nope",
        "/static/admin.js",
    ] {
        let res = c.get(path).await;
        let csp = res.header("content-security-policy").unwrap_or_default();
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"),
            "{path}: {csp}"
        );
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(
            res.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(res.header("x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(res.header("referrer-policy"), Some("same-origin"), "{path}");
    }
    // The session cookie is HttpOnly and SameSite.
    let res = Client::new(&app).get("/login").await;
    let cookie = res.header("set-cookie").unwrap_or_default();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
}

fn api_key(app: &crate::helpers::TestApp, user_id: &str) -> String {
    let (key, _) = repo::api_keys::create(&mut app.db(), user_id, "test").expect("key");
    key.expose().to_string()
}

#[actix_web::test]
async fn usage_reports_consumption_and_limits_left() {
    let app = spawn_app().await;
    let m = member(&app).await;
    let key = api_key(&app, &m.id);
    crate::admin::book(&app, &m.id, "One", "completed");
    {
        use buko::db::schema::books;
        diesel::update(books::table.filter(books::user_id.eq(&m.id)))
            .set((
                books::input_tokens.eq(1000i64),
                books::output_tokens.eq(250i64),
                books::cost_usd.eq(0.5),
            ))
            .execute(&mut app.db())
            .expect("usage");
    }
    let mut c = Client::new(&app);
    assert_eq!(c.get("/api/v1/usage").await.status, 401);
    c.default_headers.push(("x-api-key".into(), key));
    let res = c.get("/api/v1/usage").await;
    assert_eq!(res.status, 200, "{}", res.body);
    let u = res.json();
    assert_eq!(u["books"], 1);
    assert_eq!(u["tokens"]["total"], 1250);
    assert_eq!(u["cost_usd"], 0.5);
    assert_eq!(
        u["limits"]["books_remaining"], 2,
        "free plan: 2 books an hour"
    );
    assert_eq!(u["limits"]["architectures_remaining"], 3);
    assert_eq!(u["limits"]["api_key"]["requests_per_minute"], 120);
    // This request and the previous one were counted.
    assert_eq!(u["limits"]["api_key"]["requests_remaining"], 119);
}

#[actix_web::test]
async fn each_api_key_has_its_own_rate_limit() {
    let app = spawn_app().await;
    let m = member(&app).await;
    let limited = api_key(&app, &m.id);
    let other = api_key(&app, &m.id);
    {
        use buko::db::schema::api_keys;
        diesel::update(api_keys::table.filter(api_keys::prefix.eq(&limited[..13])))
            .set(api_keys::rate_limit_per_minute.eq(Some(2)))
            .execute(&mut app.db())
            .expect("limit");
    }
    let mut c = Client::new(&app);
    c.default_headers.push(("x-api-key".into(), limited));
    assert_eq!(c.get("/api/v1/books").await.status, 200);
    assert_eq!(c.get("/api/v1/books").await.status, 200);
    let res = c.get("/api/v1/books").await;
    assert_eq!(res.status, 429);
    assert_eq!(res.json()["error"], "rate_limited");
    assert!(res.header("retry-after").is_some());
    let mut c2 = Client::new(&app);
    c2.default_headers.push(("x-api-key".into(), other));
    assert_eq!(
        c2.get("/api/v1/books").await.status,
        200,
        "another key is not limited"
    );
}

#[actix_web::test]
async fn openapi_document_lists_every_route() {
    let app = spawn_app().await;
    let res = Client::new(&app).get("/api/v1/openapi.json").await;
    assert_eq!(res.status, 200);
    let doc = res.json();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().expect("paths");
    for p in [
        "/api/v1/books",
        "/api/v1/books/{id}/events",
        "/api/v1/keys/{prefix}",
        "/api/v1/usage",
        "/api/v1/openapi.json",
    ] {
        assert!(paths.contains_key(p), "{p} missing");
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["apiKey"]["name"],
        "X-API-Key"
    );
}

const WRONG: &str = "a wrong password 123";

/// Runs the real binary with debug logging, signs in with a password, uses an API key over HTTP and
/// the WebSocket query string, and checks neither appears in what the process logged.
#[actix_web::test]
async fn secrets_never_reach_the_log() {
    let dir = tempfile::tempdir().expect("tmp");
    let bin = env!("CARGO_BIN_EXE_buko");
    let env = |cmd: &mut Command| {
        cmd.env("BUKO_DATA_DIR", dir.path())
            .env("BUKO_BIND", "127.0.0.1:0")
            .env("BUKO_LLM_PROVIDER", "offline")
            .env("RUST_LOG", "debug")
            .env_remove("DATABASE_URL")
            .env_remove("REDIS_URL");
    };
    let email = unique_email();
    let mut cmd = Command::new(bin);
    env(&mut cmd);
    let out = cmd
        .args([
            "admin",
            "create-user",
            "--email",
            &email,
            "--password",
            PASSWORD,
        ])
        .output()
        .expect("create-user");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut cmd = Command::new(bin);
    env(&mut cmd);
    let out = cmd
        .args(["admin", "create-api-key", "--email", &email])
        .output()
        .expect("create-api-key");
    assert!(out.status.success());
    let key = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(key.starts_with("buko_"), "{key}");
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains(&key),
        "create-api-key logged the key"
    );

    let mut cmd = Command::new(bin);
    env(&mut cmd);
    let mut child = cmd
        .arg("serve")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("serve");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut log = String::new();
    let started = Instant::now();
    let port = loop {
        let mut line = String::new();
        if stderr.read_line(&mut line).expect("read") == 0
            || started.elapsed() > Duration::from_secs(60)
        {
            let _ = child.kill();
            panic!("no port in the log: {log}");
        }
        log.push_str(&line);
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
            if let Some(p) = v.get("port").and_then(|p| p.as_u64()) {
                break p;
            }
        }
    };
    let app_base = format!("http://127.0.0.1:{port}");
    let client = crate::helpers::Client::for_base(&app_base);
    assert_eq!(client.login(&email, PASSWORD).await.status, 303);
    let stranger = crate::helpers::Client::for_base(&app_base);
    assert_eq!(stranger.login(&email, WRONG).await.status, 401);
    let mut api = crate::helpers::Client::for_base(&app_base);
    api.default_headers.push(("x-api-key".into(), key.clone()));
    assert_eq!(api.get("/api/v1/books").await.status, 200);
    let _ = awc::Client::new()
        .ws(format!("{app_base}/ws?api_key={key}"))
        .connect()
        .await;
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    let _ = child.kill();
    let _ = child.wait();
    stderr.read_to_string(&mut log).expect("rest of the log");
    assert!(
        log.contains("\"request\"") || log.contains("request"),
        "requests were logged: {log}"
    );
    assert!(!log.contains(PASSWORD), "the password reached the log");
    assert!(!log.contains(WRONG), "a wrong password reached the log");
    assert!(!log.contains(&key), "the API key reached the log");
    assert!(
        !log.contains(&key[13..]),
        "the secret part of the key reached the log"
    );
}
