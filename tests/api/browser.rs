//! The author's flow in headless Chromium, driven over the W3C WebDriver protocol with awc (no driver
//! crate). Needs Debian's `chromium` and `chromium-driver` (`scripts/install-browser.sh`, run by the
//! test script); without them the test fails.
//!
//! The jobs run on the test node's own queue workers with the offline writer, as in production.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{book_status, spawn_app_with, unique_email, PASSWORD};

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

pub(crate) struct Driver {
    child: Child,
    base: String,
    http: awc::Client,
    session: String,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The Chromium this test started (found by its own profile directory: killing chromedriver
        // leaves its browser running), then the chromedriver.
        let _ = Command::new("pkill")
            .arg("-KILL")
            .arg("-f")
            .arg("--")
            .arg(format!(
                "--user-data-dir={}",
                self._profile.path().display()
            ))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find_binary(names: &[&str]) -> Option<String> {
    let path = std::env::var("PATH").unwrap_or_default();
    names.iter().find_map(|n| {
        path.split(':')
            .map(|d| std::path::Path::new(d).join(n))
            .find(|p| p.is_file())
            .map(|p| p.to_string_lossy().into_owned())
    })
}

impl Driver {
    pub(crate) async fn start() -> Option<Driver> {
        let driver = find_binary(&["chromedriver"])?;
        let chromium = find_binary(&["chromium", "chromium-browser"])?;
        let port = TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let profile = tempfile::tempdir().ok()?;
        let http = awc::Client::builder()
            .timeout(Duration::from_secs(60))
            .finish();
        let base = format!("http://127.0.0.1:{port}");
        let mut d = Driver {
            child,
            base,
            http,
            session: String::new(),
            _profile: profile,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(mut r) = d.http.get(format!("{}/status", d.base)).send().await {
                if r.json::<Value>().await.ok()?["value"]["ready"] == true {
                    break;
                }
            }
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         "--window-size=1200,1600",
                         format!("--user-data-dir={}", d._profile.path().display())]
            }
        }}});
        let v = d.call("POST", "/session", Some(caps)).await;
        d.session = v["sessionId"].as_str()?.to_string();
        Some(d)
    }

    pub(crate) async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let v = self.try_call(method, path, body).await;
        assert!(v.get("error").is_none(), "webdriver {method} {path}: {v}");
        v
    }

    /// The command's `value`, errors included (`{"error": …}`), for waits that expect an element
    /// to be missing for a while (a page still loading after a submit).
    async fn try_call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let m = awc::http::Method::from_bytes(method.as_bytes()).expect("method");
        let req = self.http.request(m, format!("{}{}", self.base, path));
        let mut res = match body {
            Some(b) => req.send_json(&b).await,
            None => req.send().await,
        }
        .expect("webdriver reachable");
        let v: Value = res
            .json()
            .limit(64 * 1024 * 1024)
            .await
            .expect("webdriver JSON");
        v["value"].clone()
    }

    pub(crate) async fn s(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.call(method, &format!("/session/{}{path}", self.session), body)
            .await
    }

    pub(crate) fn session_id(&self) -> &str {
        &self.session
    }

    pub(crate) async fn go(&self, url: &str) {
        self.s("POST", "/url", Some(json!({ "url": url }))).await;
    }

    pub(crate) async fn find(&self, css: &str) -> String {
        let v = self
            .s(
                "POST",
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        v[ELEMENT_KEY].as_str().expect("element id").to_string()
    }

    pub(crate) async fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.s("POST", &format!("/element/{e}/clear"), Some(json!({})))
            .await;
        self.s(
            "POST",
            &format!("/element/{e}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    pub(crate) async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.s("POST", &format!("/element/{e}/click"), Some(json!({})))
            .await;
    }

    pub(crate) async fn url(&self) -> String {
        self.s("GET", "/url", None)
            .await
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    pub(crate) async fn text(&self, css: &str) -> String {
        let e = self.find(css).await;
        self.s("GET", &format!("/element/{e}/text"), None)
            .await
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    /// Waits for a navigation started by a click to land on a URL matching `pred`.
    pub(crate) async fn wait_url(&self, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let u = self.url().await;
            if pred(&u) || Instant::now() > deadline {
                return u;
            }
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The element's text, or `None` while no element matches (or it went stale in a navigation).
    async fn try_text(&self, css: &str) -> Option<String> {
        let path = format!("/session/{}", self.session);
        let v = self
            .try_call(
                "POST",
                &format!("{path}/element"),
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        let e = v[ELEMENT_KEY].as_str()?.to_string();
        let t = self
            .try_call("GET", &format!("{path}/element/{e}/text"), None)
            .await;
        t.as_str().map(str::to_string)
    }

    /// Waits until the element exists and its text contains `needle` (a click's navigation may
    /// still be on the way: a missing element is waited for, not an error, until the deadline).
    pub(crate) async fn wait_text(&self, css: &str, needle: &str, secs: u64) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let t = self.try_text(css).await;
            if Instant::now() > deadline {
                return match t {
                    Some(t) => t,
                    None => self.text(css).await,
                };
            }
            if let Some(t) = t.filter(|t| t.contains(needle)) {
                return t;
            }
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub(crate) async fn screenshot(&self, name: &str) {
        let b64 = self.s("GET", "/screenshot", None).await;
        let png = base64_decode(b64.as_str().unwrap_or(""));
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("test-artifacts");
        std::fs::create_dir_all(&dir).expect("artifacts dir");
        std::fs::write(dir.join(name), png).expect("screenshot written");
        println!("screenshot: {}", dir.join(name).display());
    }
}

fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for v in s.bytes().filter_map(val) {
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

#[actix_web::test]
async fn author_flow_in_headless_chromium() {
    let Some(d) = Driver::start().await else {
        panic!("chromium / chromedriver missing: run scripts/install-browser.sh");
    };
    // Real workers on this node; the offline writer at a pace where the live page sees text arrive.
    let app = spawn_app_with(|s| s.llm.offline_tokens_per_sec = 4000.0).await;

    // Register.
    d.go(&format!("{}/register", app.base)).await;
    d.type_into("input[name=email]", &unique_email()).await;
    d.type_into("input[name=password]", PASSWORD).await;
    d.click("form[action='/register'] button[type=submit]")
        .await;
    let u = d.wait_url(|u| u.ends_with("/books")).await;
    assert!(u.ends_with("/books"), "{u}");

    // The idea.
    d.go(&format!("{}/books/new", app.base)).await;
    d.type_into(
        "textarea[name=idea]",
        "Una farera en Chiloé encuentra un mensaje",
    )
    .await;
    d.click("#wizard button[type=submit]").await;
    let url = d.wait_url(|u| !u.ends_with("/books/new")).await;
    let book_id = url.rsplit('/').next().unwrap_or("").to_string();
    let status = book_status(&app, &book_id);
    assert!(
        ["architecture_pending", "architecture_ready"].contains(&status.as_str()),
        "{status}"
    );
    assert!(d.text("#book-status").await.len() > 3);

    // A worker claims the architecture job; the offline writer drafts the outline.
    let deadline = Instant::now() + Duration::from_secs(30);
    while book_status(&app, &book_id) != "architecture_ready" {
        assert!(Instant::now() < deadline, "the architecture never arrived");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    d.go(&url).await;
    d.find("#approve").await;
    d.type_into("input[name=ch0_title]", "La llegada").await;
    d.click("#architecture button[type=submit]").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let saved = loop {
        let arch = buko::db::repo::books::get(&mut app.db(), &book_id)
            .expect("book")
            .architecture()
            .expect("architecture");
        if arch.chapters[0].title == "La llegada" || Instant::now() > deadline {
            break arch.chapters[0].title.clone();
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(saved, "La llegada");
    d.find("#approve").await;
    d.click("#approve button[type=submit]").await;
    let u = d.wait_url(|u| u.ends_with("/live")).await;
    assert!(u.ends_with("/live"), "{u}");
    let status = book_status(&app, &book_id);
    assert!(
        ["queued", "generating", "completed"].contains(&status.as_str()),
        "{status}"
    );
    d.wait_text("#live-connection", "live", 10).await;

    // A worker writes the book; the page follows over the WebSocket.
    let status = d.wait_text("#live-status", "Completed", 90).await;
    assert!(status.contains("Completed"), "{status}");
    let first =
        buko::db::repo::chapters::list_with_text(&mut app.db(), &book_id).expect("chapters");
    let sample: String = first[0]
        .content
        .split_whitespace()
        .take(4)
        .collect::<Vec<_>>()
        .join(" ");
    let shown = d.wait_text("#chapter-0", &sample, 10).await;
    assert!(
        shown.contains(&sample),
        "live text of chapter 1 shown: {shown}"
    );
    // The usage figures refresh 300 ms after the last event (debounced).
    let words = d.wait_text("#live-words", "", 1).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut words = words;
    while (words.trim() == "0" || words.is_empty()) && Instant::now() < deadline {
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        words = d.text("#live-words").await;
    }
    assert_ne!(words.trim(), "0", "word count refreshed after completion");
    d.screenshot("live-page.png").await;

    // Download, fetched by the page itself with its session cookie, as the link would.
    let script = "const done = arguments[arguments.length - 1]; \
                  fetch(document.querySelector('#live-downloads a[data-format=md]').href).then(r => r.text()).then(done);";
    let md = d
        .s(
            "POST",
            "/execute/async",
            Some(json!({"script": script, "args": []})),
        )
        .await;
    let md = md.as_str().unwrap_or("");
    assert!(md.contains("## La llegada") && md.contains(&sample), "{md}");
    d.s("DELETE", "", None).await;
}

/// Runs a script in the page and returns its value.
async fn eval(d: &Driver, script: &str) -> Value {
    d.s(
        "POST",
        "/execute/sync",
        Some(json!({"script": script, "args": []})),
    )
    .await
}

#[actix_web::test]
async fn admin_analytics_chart_gains_a_completed_book_without_reloading() {
    let Some(d) = Driver::start().await else {
        panic!("chromium / chromedriver missing: run scripts/install-browser.sh");
    };
    let app = spawn_app_with(|_| {}).await;
    // An admin signs up in the browser and is promoted (as `buko admin create-user --admin` would).
    let email = unique_email();
    d.go(&format!("{}/register", app.base)).await;
    d.type_into("input[name=email]", &email).await;
    d.type_into("input[name=password]", PASSWORD).await;
    d.click("form[action='/register'] button[type=submit]")
        .await;
    d.wait_url(|u| u.ends_with("/books")).await;
    {
        use diesel::prelude::*;
        diesel::update(buko::db::schema::users::table)
            .filter(buko::db::schema::users::email.eq(&email))
            .set(buko::db::schema::users::role.eq("admin"))
            .execute(&mut app.db())
            .expect("promote");
    }
    // A node keeps a signed-in user for under a second (`sessions::cache`); a change made behind its
    // back, as here, is seen after that.
    actix_web::rt::time::sleep(Duration::from_millis(1100)).await;
    d.go(&format!("{}/admin/analytics?range=1h", app.base))
        .await;
    let completed = "#chart-books dd[data-series=books_completed]";
    let deadline = Instant::now() + Duration::from_secs(20);
    while eval(
        &d,
        "return document.getElementById('analytics').getAttribute('data-loaded');",
    )
    .await
        != "1"
    {
        assert!(Instant::now() < deadline, "the charts never loaded");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(d.text(completed).await.trim(), "0");
    d.wait_text("#analytics-live", "live", 10).await;
    eval(&d, "window.__sameDocument = 42; return null;").await;

    // An author writes a book with the offline writer, on this node's workers.
    let author = crate::helpers::author(&app).await;
    let id =
        crate::helpers::create_book_via_api(&author, "A lighthouse keeper finds a message").await;
    crate::helpers::wait_book_status(&author, &id, "architecture_ready").await;
    let res = author
        .api("POST", &format!("/api/v1/books/{id}/approve"), None)
        .await;
    assert_eq!(res.status, 202, "{}", res.body);
    crate::helpers::wait_book_status(&author, &id, "completed").await;

    // The roll-up's next update reaches the open page: the chart gains the point, no reload.
    let shown = d.wait_text(completed, "1", 30).await;
    assert_eq!(shown.trim(), "1");
    let same = eval(&d, "return window.__sameDocument === 42;").await;
    assert_eq!(same, true, "the page was not reloaded");
    let point = eval(
        &d,
        "var u = document.querySelector('#chart-books .u-legend'); return u ? u.textContent : '';",
    )
    .await;
    assert!(point.as_str().is_some_and(|s| !s.is_empty()), "chart drawn");
    let words = eval(
        &d,
        "return document.querySelector('#chart-words dd').textContent;",
    )
    .await;
    assert_ne!(
        words.as_str().unwrap_or("0").trim(),
        "0",
        "words written counted"
    );
    d.screenshot("admin-analytics.png").await;
    // The same page on a phone, in the dark theme.
    d.s(
        "POST",
        "/window/rect",
        Some(json!({"width": 400, "height": 900})),
    )
    .await;
    d.s(
        "POST",
        "/goog/cdp/execute",
        Some(json!({"cmd": "Emulation.setEmulatedMedia",
                    "params": {"features": [{"name": "prefers-color-scheme", "value": "dark"}]}})),
    )
    .await;
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    d.screenshot("admin-analytics-phone-dark.png").await;
    d.s("DELETE", "", None).await;
}
