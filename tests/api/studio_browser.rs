//! The author's studio in headless Chromium: the live page's counters move while a chunk streams,
//! pause stops the text within a second and a second tab agrees, a finished book offers every
//! download (each file checked), and the library searches, duplicates and deletes. Screenshots of the
//! library and live pages (desktop 1280×800, phone 390×844) go to `test-artifacts/`.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::browser::Driver;
use crate::helpers::{
    author, book_status, create_book_via_api, make_ready, spawn_app_with, wait_book_status, Author,
    PASSWORD,
};
use crate::studio::{slow, writing_book};

pub(crate) async fn login(d: &Driver, base: &str, a: &Author) {
    d.go(&format!("{base}/login")).await;
    d.type_into("input[name=email]", &a.email).await;
    d.type_into("input[name=password]", PASSWORD).await;
    d.click("form[action='/login'] button[type=submit]").await;
    let u = d.wait_url(|u| !u.contains("/login")).await;
    assert!(!u.contains("/login"), "logged in: {u}");
}

pub(crate) async fn size(d: &Driver, w: u32, h: u32) {
    d.s(
        "POST",
        "/window/rect",
        Some(json!({"width": w, "height": h})),
    )
    .await;
}

pub(crate) async fn js(d: &Driver, script: &str) -> Value {
    d.s(
        "POST",
        "/execute/sync",
        Some(json!({"script": script, "args": []})),
    )
    .await
}

async fn text_len(d: &Driver) -> u64 {
    js(
        d,
        "return document.getElementById('live-text').textContent.length;",
    )
    .await
    .as_u64()
    .unwrap_or(0)
}

#[actix_web::test]
async fn live_page_counts_while_streaming_and_pause_stops_the_text() {
    let Some(d) = Driver::start().await else {
        panic!("chromium / chromedriver missing: run scripts/install-browser.sh");
    };
    let app = spawn_app_with(slow).await;
    let a = author(&app).await;
    login(&d, &app.base, &a).await;
    let id = writing_book(&app, &a).await;
    size(&d, 1280, 800).await;
    d.go(&format!("{}/books/{id}/live", app.base)).await;
    d.wait_text("#live-connection", "live", 10).await;

    // The counters move before the first chunk ends.
    let deadline = Instant::now() + Duration::from_secs(8);
    let mut words = 0u64;
    while words == 0 {
        assert!(
            Instant::now() < deadline,
            "words stayed at 0 while text streamed"
        );
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
        words = d
            .text("#live-words")
            .await
            .trim()
            .replace([',', '.'], "")
            .parse()
            .unwrap_or(0);
    }
    assert_eq!(
        d.text("#live-chunks-done").await.trim(),
        "0",
        "still in chunk 1"
    );
    let paragraphs = js(
        &d,
        "return document.querySelectorAll('#live-text .chunk p').length;",
    )
    .await;
    assert!(
        paragraphs.as_u64().unwrap_or(0) >= 1,
        "streamed text in paragraphs"
    );
    let writing = d
        .text("#live-chapters li[data-index='0'] .chapter-status")
        .await;
    assert_eq!(writing.trim(), "writing");
    d.screenshot("live-desktop.png").await;
    size(&d, 390, 844).await;
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    d.screenshot("live-phone.png").await;
    size(&d, 1280, 800).await;

    // A second tab on the same book.
    let first = d.s("GET", "/window", None).await;
    let second = d
        .s("POST", "/window/new", Some(json!({"type": "tab"})))
        .await;
    let second = second["handle"].as_str().expect("handle").to_string();
    d.s("POST", "/window", Some(json!({"handle": second})))
        .await;
    d.go(&format!("{}/books/{id}/live", app.base)).await;
    d.wait_text("#live-connection", "live", 10).await;
    d.s("POST", "/window", Some(json!({"handle": first}))).await;

    // Pause: no new text after 1 s; the other tab shows Paused.
    d.click("#btn-pause").await;
    actix_web::rt::time::sleep(Duration::from_secs(1)).await;
    let at_1s = text_len(&d).await;
    actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        text_len(&d).await,
        at_1s,
        "text kept arriving after the pause"
    );
    assert!(d.text("#live-status").await.contains("Paused"));
    assert!(!d.text("#btn-resume").await.is_empty(), "resume offered");
    d.s("POST", "/window", Some(json!({"handle": second})))
        .await;
    let other = d.wait_text("#live-status", "Paused", 1).await;
    assert!(other.contains("Paused"), "second tab: {other}");
    assert_eq!(book_status(&app, &id), "paused");
    d.s("DELETE", "", None).await;
}

#[actix_web::test]
async fn finished_book_downloads_and_the_library_in_chromium() {
    let Some(d) = Driver::start().await else {
        panic!("chromium / chromedriver missing: run scripts/install-browser.sh");
    };
    let app = spawn_app_with(|_| {}).await;
    let a = author(&app).await;
    let id = create_book_via_api(&a, "A keeper").await;
    if book_status(&app, &id) == "architecture_pending" {
        make_ready(&app, &id).await;
    }
    wait_book_status(&a, &id, "architecture_ready").await;
    a.api("POST", &format!("/api/v1/books/{id}/approve"), None)
        .await;
    wait_book_status(&a, &id, "completed").await;
    login(&d, &app.base, &a).await;
    size(&d, 1280, 800).await;

    // The live page of a finished book: downloads instead of controls, every file valid.
    d.go(&format!("{}/books/{id}/live", app.base)).await;
    let hidden = js(&d, "return [document.getElementById('live-controls').hidden, document.getElementById('live-downloads').hidden];").await;
    assert_eq!(hidden, json!([true, false]));
    let script = "const done = arguments[arguments.length - 1]; \
        Promise.all(Array.from(document.querySelectorAll('#live-downloads a.download')).map(a => \
          fetch(a.href).then(r => r.arrayBuffer()).then(b => [a.dataset.format, b.byteLength, \
            Array.from(new Uint8Array(b.slice(0, 4))).map(c => String.fromCharCode(c)).join('')]))).then(done);";
    let files = d
        .s(
            "POST",
            "/execute/async",
            Some(json!({"script": script, "args": []})),
        )
        .await;
    let files = files.as_array().cloned().unwrap_or_default();
    assert_eq!(files.len(), 4, "{files:?}");
    for f in &files {
        let (fmt, len, magic) = (
            f[0].as_str().unwrap_or(""),
            f[1].as_u64().unwrap_or(0),
            f[2].as_str().unwrap_or(""),
        );
        assert!(len > 500, "{fmt}: {len} bytes");
        match fmt {
            "pdf" => assert_eq!(magic, "%PDF"),
            "epub" | "docx" => assert_eq!(magic, "PK\u{3}\u{4}", "{fmt}"),
            // Front matter or a heading.
            "md" => assert!(
                magic.starts_with('#') || magic.starts_with("---"),
                "{magic}"
            ),
            other => panic!("unexpected format {other}"),
        }
    }
    let chapters = js(&d, "return Array.from(document.querySelectorAll('#live-chapters .chapter-status')).map(e => e.textContent.trim());").await;
    assert!(
        chapters
            .as_array()
            .is_some_and(|c| c.iter().all(|s| s == "done")),
        "{chapters}"
    );

    // The reader and the library row offer the four formats, with sizes once rendered.
    d.go(&format!("{}/books/{id}/read", app.base)).await;
    let n = js(&d, "return document.querySelectorAll('a.download').length;").await;
    assert_eq!(n, 4);
    d.go(&format!("{}/books", app.base)).await;
    let sizes = js(&d, "return Array.from(document.querySelectorAll('.book-row a.download .size')).map(e => e.textContent);").await;
    assert_eq!(sizes.as_array().map(Vec::len), Some(4), "{sizes}");

    // Duplicate, then search, then delete the copy after the confirmation page.
    d.click(".book-row form[action$='/duplicate'] button").await;
    let u = d.wait_url(|u| !u.ends_with("/books")).await;
    let copy = u.rsplit('/').next().unwrap_or("").to_string();
    assert_ne!(copy, id);
    assert_eq!(book_status(&app, &copy), "architecture_ready");
    d.go(&format!("{}/books", app.base)).await;
    let rows = js(&d, "return document.querySelectorAll('.book-row').length;").await;
    assert_eq!(rows, 2);
    d.screenshot("library-desktop.png").await;
    size(&d, 390, 844).await;
    d.screenshot("library-phone.png").await;
    size(&d, 1280, 800).await;
    d.type_into("#library-q", "(copy)").await;
    d.click("form.search button[type=submit]").await;
    d.wait_url(|u| u.contains("q=")).await;
    let rows = js(&d, "return document.querySelectorAll('.book-row').length;").await;
    assert_eq!(rows, 1, "search by title");
    d.type_into("#library-q", "nothing like this").await;
    d.click("form.search button[type=submit]").await;
    // The results page, not the one the click left (its rows have no empty notice yet).
    d.wait_url(|u| u.contains("nothing")).await;
    d.wait_text("#library-empty", "No book", 5).await;
    d.go(&format!("{}/books/{copy}/delete", app.base)).await;
    d.click("#confirm-delete").await;
    d.wait_url(|u| u.ends_with("/books")).await;
    let rows = js(&d, "return document.querySelectorAll('.book-row').length;").await;
    assert_eq!(rows, 1, "the copy is gone");
    assert!(
        buko::db::repo::books::get(&mut app.db(), &copy).is_err(),
        "deleted in the database"
    );
    d.s("DELETE", "", None).await;
}
