//! `spawn_app()` and a small cookie-keeping HTTP client for the tests.
// Shared by every test module; each uses only part of it.
#![allow(dead_code)]

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Duration;

use buko::config::Settings;
use buko::secret::Secret;
use diesel::connection::SimpleConnection;
use diesel::Connection;

pub struct TestApp {
    pub base: String,
    pub port: u16,
    pub database_url: String,
    pub data_dir: tempfile::TempDir,
    /// The node's progress broadcaster, to publish live messages as the engine would.
    pub broadcaster: actix::Addr<buko_actors::ProgressBroadcaster>,
    /// The node's runner over its engine (the same broadcaster), to run jobs as a worker would.
    pub runner: buko::runner::Runner,
    pg_database: Option<(String, String)>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.pg_database.take() {
            // Best effort: FORCE closes the app's pooled connections.
            if let Ok(mut c) = diesel::PgConnection::establish(&admin_url) {
                let _ =
                    c.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
            }
        }
    }
}

/// Drops a test PostgreSQL database when the test ends (for tests that build their own pool).
pub struct PgGuard(pub (String, String));

impl Drop for PgGuard {
    fn drop(&mut self) {
        let (admin_url, name) = &self.0;
        if let Ok(mut c) = diesel::PgConnection::establish(admin_url) {
            let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
        }
    }
}

impl TestApp {
    /// A direct connection to the app's database, for assertions on what was stored.
    pub fn db(&self) -> buko::db::DbConn {
        let mgr = buko::db::ConnectionManager::new(&self.database_url);
        r2d2::ManageConnection::connect(&mgr)
            .expect("connect to the test database")
            .into_inner()
    }
}

/// Settings for a test app: port 0, a temporary data dir, a fresh database.
pub fn test_settings(data_dir: &std::path::Path) -> (Settings, Option<(String, String)>) {
    let (database_url, pg) = match std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|v| !v.is_empty())
    {
        Some(admin_url) => {
            let name = format!("buko_test_{}", uuid::Uuid::new_v4().simple());
            let mut c =
                diesel::PgConnection::establish(&admin_url).expect("connect to TEST_DATABASE_URL");
            c.batch_execute(&format!("CREATE DATABASE \"{name}\""))
                .expect("create test database");
            let (base, _) = admin_url.rsplit_once('/').expect("database URL has a path");
            (format!("{base}/{name}"), Some((admin_url, name)))
        }
        None => (
            data_dir.join("test.db").to_string_lossy().into_owned(),
            None,
        ),
    };
    let settings = Settings {
        database_url: Secret::new(database_url),
        redis_url: None,
        bind: "127.0.0.1:0".into(),
        secret_key: Some(Secret::new(
            "test-secret-key-that-is-long-enough-0123456789",
        )),
        data_dir: data_dir.to_path_buf(),
        db_pool_size: 8,
        http_workers: 1,
        cookie_secure: false,
        registration_open: true,
        login_max_failures: 5,
        login_lockout_secs: 900,
        api_key_rate_limit_per_minute: 120,
        // The offline writer at full speed: books finish in seconds.
        llm: buko::llm::LlmSettings::from_lookup(|k| match k {
            "BUKO_LLM_PROVIDER" => Some("offline".into()),
            "BUKO_OFFLINE_TOKENS_PER_SEC" => Some("0".into()),
            _ => None,
        })
        .expect("offline llm settings"),
        images: Default::default(),
        node_id: format!("test-{}", uuid::Uuid::new_v4().simple()),
        queue: Default::default(),
        mail: Default::default(),
        allowed_origins: vec![],
        ops: Default::default(),
        payments: Default::default(),
        http_limits: Default::default(),
    };
    (settings, pg)
}

/// Errors the servers of this test binary logged (the causes behind 500s, which their bodies do not
/// tell), so a test that got one can say why: `server_errors()` in its assertion message.
struct ErrorLog;

static SERVER_ERRORS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

impl log::Log for ErrorLog {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::Level::Error
    }

    fn log(&self, record: &log::Record) {
        if self.enabled(record.metadata()) {
            let mut errors = SERVER_ERRORS.lock().unwrap_or_else(|e| e.into_inner());
            if errors.len() < 1_000 {
                errors.push(format!("{}: {}", record.target(), record.args()));
            }
        }
    }

    fn flush(&self) {}
}

/// The errors logged so far by every server of this test binary (other tests' included), one a line.
pub fn server_errors() -> String {
    SERVER_ERRORS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .join("\n")
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// A web-only node: no workers claim jobs, so a test can play the engine's part itself.
pub async fn spawn_web_app() -> TestApp {
    spawn_app_as(buko::app::NodeRole::WebOnly, |_| {}).await
}

pub async fn spawn_app_with(customize: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_as(buko::app::NodeRole::WebAndWorkers, customize).await
}

pub async fn spawn_app_as(
    role: buko::app::NodeRole,
    customize: impl FnOnce(&mut Settings),
) -> TestApp {
    if log::set_logger(&ErrorLog).is_ok() {
        log::set_max_level(log::LevelFilter::Error);
    }
    let data_dir = tempfile::tempdir().expect("temp dir");
    let (mut settings, pg_database) = test_settings(data_dir.path());
    customize(&mut settings);
    let database_url = settings.database_url.expose().to_string();
    let app = buko::Application::build_with(settings, role)
        .await
        .expect("app builds");
    let port = app.port();
    let broadcaster = app.broadcaster();
    let runner = app.runner();
    actix_web::rt::spawn(app.run_until_stopped());
    TestApp {
        base: format!("http://127.0.0.1:{port}"),
        port,
        database_url,
        data_dir,
        broadcaster,
        runner,
        pg_database,
    }
}

pub struct Response {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: String,
}

impl Response {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

/// A browser-like client: keeps cookies, does not follow redirects.
pub struct Client {
    pub base: String,
    http: awc::Client,
    cookies: RefCell<HashMap<String, String>>,
    pub default_headers: Vec<(String, String)>,
}

impl Client {
    pub fn new(app: &TestApp) -> Client {
        Client::for_base(&app.base)
    }

    /// A client for any base URL (e.g. a node started as a child process).
    pub fn for_base(base: &str) -> Client {
        // A pooled connection is dropped after 2 s idle, well before the server's 5 s
        // keep-alive closes it: a test that pauses (a converter run, a wait) never sends
        // on a socket the server is closing at that moment.
        let http = awc::Client::builder()
            .disable_redirects()
            .timeout(Duration::from_secs(60))
            .connector(awc::Connector::new().conn_keep_alive(Duration::from_secs(2)))
            .finish();
        Client {
            base: base.to_string(),
            http,
            cookies: RefCell::new(HashMap::new()),
            default_headers: vec![],
        }
    }

    fn prepare(&self, method: awc::http::Method, path: &str) -> awc::ClientRequest {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        let cookie: Vec<String> = self
            .cookies
            .borrow()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if !cookie.is_empty() {
            req = req.insert_header(("cookie", cookie.join("; ")));
        }
        for (k, v) in &self.default_headers {
            req = req.insert_header((k.as_str(), v.as_str()));
        }
        req
    }

    /// The `Cookie` header this client would send (for WebSocket handshakes).
    pub fn cookie_header(&self) -> String {
        self.cookies
            .borrow()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn finish<S>(
        &self,
        res: Result<awc::ClientResponse<S>, awc::error::SendRequestError>,
    ) -> Response
    where
        S: futures_util::Stream<Item = Result<bytes::Bytes, awc::error::PayloadError>> + Unpin,
    {
        let mut res = res.expect("request sent");
        for v in res.headers().get_all("set-cookie") {
            let v = v.to_str().unwrap_or("");
            let pair = v.split(';').next().unwrap_or("");
            if let Some((k, val)) = pair.split_once('=') {
                if val.is_empty() || v.contains("Max-Age=0") {
                    self.cookies.borrow_mut().remove(k.trim());
                } else {
                    self.cookies
                        .borrow_mut()
                        .insert(k.trim().to_string(), val.to_string());
                }
            }
        }
        let headers = res
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        let body = res.body().limit(64 * 1024 * 1024).await.expect("body");
        Response {
            status: res.status().as_u16(),
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.finish(self.prepare(awc::http::Method::GET, path).send().await)
            .await
    }

    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Response {
        self.finish(
            self.prepare(awc::http::Method::POST, path)
                .send_form(&form)
                .await,
        )
        .await
    }

    pub async fn send_json(&self, method: &str, path: &str, body: &serde_json::Value) -> Response {
        let m = awc::http::Method::from_bytes(method.as_bytes()).expect("method");
        self.finish(self.prepare(m, path).send_json(body).await)
            .await
    }

    pub async fn send_raw(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Response {
        let m = awc::http::Method::from_bytes(method.as_bytes()).expect("method");
        self.finish(
            self.prepare(m, path)
                .insert_header(("content-type", content_type))
                .send_body(body)
                .await,
        )
        .await
    }

    /// The CSRF token of the session, read from a page's form.
    pub async fn csrf(&self, page: &str) -> String {
        let res = self.get(page).await;
        csrf_in(&res.body).unwrap_or_else(|| panic!("no csrf token on {page} ({})", res.status))
    }

    pub async fn register(&self, email: &str, password: &str) -> Response {
        let token = self.csrf("/register").await;
        self.post_form(
            "/register",
            &[
                ("csrf_token", &token),
                ("email", email),
                ("password", password),
            ],
        )
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        let token = self.csrf("/login").await;
        self.post_form(
            "/login",
            &[
                ("csrf_token", &token),
                ("email", email),
                ("password", password),
            ],
        )
        .await
    }
}

pub fn csrf_in(html: &str) -> Option<String> {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_string())
}

pub fn unique_email() -> String {
    format!("u{}@example.com", uuid::Uuid::new_v4().simple())
}

pub const PASSWORD: &str = "correct horse battery";

/// A registered, signed-in client with an API key created through the settings page.
pub struct Author {
    pub client: Client,
    pub email: String,
    pub key: String,
}

impl Author {
    /// `X-API-Key` JSON request.
    pub async fn api(&self, method: &str, path: &str, body: Option<serde_json::Value>) -> Response {
        let c = &self.client;
        c.with_api_key(&self.key, method, path, body).await
    }

    pub fn user_id(&self, app: &TestApp) -> String {
        buko::db::repo::users::find_by_email(&mut app.db(), &self.email)
            .expect("query")
            .expect("user exists")
            .id
            .into()
    }
}

pub async fn author(app: &TestApp) -> Author {
    let client = Client::new(app);
    let email = unique_email();
    let res = client.register(&email, PASSWORD).await;
    assert_eq!(res.status, 303, "register: {}", res.body);
    let token = client.csrf("/settings").await;
    let res = client
        .post_form(
            "/settings/keys",
            &[("csrf_token", &token), ("name", "tests")],
        )
        .await;
    assert_eq!(res.status, 303, "create key: {}", res.body);
    let res = client.get("/settings").await;
    let marker = "id=\"new-api-key\">";
    let start = res.body.find(marker).expect("key shown once") + marker.len();
    let end = res.body[start..].find('<').expect("key end");
    let key = res.body[start..start + end].to_string();
    Author { client, email, key }
}

impl Client {
    pub async fn with_api_key(
        &self,
        key: &str,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Response {
        let m = awc::http::Method::from_bytes(method.as_bytes()).expect("method");
        let req = self
            .http
            .request(m, format!("{}{}", self.base, path))
            .insert_header(("x-api-key", key));
        let res = match body {
            Some(b) => req.send_json(&b).await,
            None => req.send().await,
        };
        self.finish(res).await
    }
}

/// Creates a book through the API and returns its id (202 expected).
pub async fn create_book_via_api(author: &Author, idea: &str) -> String {
    let res = author
        .api(
            "POST",
            "/api/v1/books",
            Some(serde_json::json!({"idea": idea, "language": "en", "target_pages": 20})),
        )
        .await;
    assert_eq!(res.status, 202, "create book: {}", res.body);
    res.json()["id"].as_str().expect("id").to_string()
}

/// A small valid architecture (three chapters).
pub fn sample_architecture() -> buko_actors::Architecture {
    serde_json::from_value(serde_json::json!({
        "title": "The Lighthouse Keeper",
        "subtitle": "A tale",
        "synopsis": "A keeper finds a message.",
        "language": "en",
        "bible": {"characters": [{"name": "Ada", "role": "keeper"}], "facts": ["The light is red"], "style": ["Short sentences"]},
        "chapters": [
            {"title": "Arrival", "summary": "Ada arrives.", "key_points": ["storm"], "target_words": 1000},
            {"title": "The Message", "summary": "A bottle.", "key_points": [], "target_words": 1200},
            {"title": "Departure", "summary": "She leaves.", "key_points": [], "target_words": 800}
        ]
    }))
    .expect("sample architecture")
}

/// Stands in for the LLM of the architecture job: the runner stores the sample architecture through
/// its production path (status guard, event), as a worker would.
pub async fn make_ready(app: &TestApp, book_id: &str) {
    let outcome = app
        .runner
        .store_architecture(book_id, sample_architecture())
        .await;
    // On a node whose workers draft too (`spawn_app`), a worker may have stored its architecture
    // first: the book is ready all the same.
    let raced = buko::runner::RunOutcome::Done(
        "book changed while drafting; architecture discarded".into(),
    );
    if outcome == raced && book_status(app, book_id) == "architecture_ready" {
        return;
    }
    assert_eq!(
        outcome,
        buko::runner::RunOutcome::Done("architecture ready".into()),
        "architecture stored"
    );
}

/// The book's status as stored.
pub fn book_status(app: &TestApp, book_id: &str) -> String {
    buko::db::repo::books::get(&mut app.db(), book_id)
        .expect("book")
        .status
        .to_string()
}

/// Jobs of the book as (kind, payload JSON).
pub fn jobs_of(app: &TestApp, book_id: &str) -> Vec<(String, String)> {
    use buko::db::schema::jobs;
    use diesel::prelude::*;
    jobs::table
        .filter(jobs::payload.like(format!("%{book_id}%")))
        .order(jobs::created_at.asc())
        .select((jobs::kind, jobs::payload))
        .load(&mut app.db())
        .expect("jobs")
}

/// Polls the API until the book's status is `wanted` (panics after 90 s with the last state).
pub async fn wait_book_status(author: &Author, id: &str, wanted: &str) -> serde_json::Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    loop {
        let book = author
            .api("GET", &format!("/api/v1/books/{id}"), None)
            .await
            .json();
        if book["status"] == wanted {
            return book;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "book never became {wanted}: {book}"
        );
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
