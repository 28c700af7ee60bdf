//! The cover editor in headless Chromium: from the review page to the editor, generate candidates
//! (offline generator), upload an image, switch the layout (the live preview follows), save; then the
//! library with its cover thumbnails. Screenshots of the editor (desktop and phone, light and dark) and
//! of the library go to `test-artifacts/`.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::browser::Driver;
use crate::helpers::{book_status, spawn_app, unique_email, PASSWORD};

async fn eval(d: &Driver, script: &str) -> Value {
    d.s(
        "POST",
        "/execute/sync",
        Some(json!({"script": script, "args": []})),
    )
    .await
}

async fn shots(d: &Driver, name: &str) {
    for (size, w, h) in [("desktop", 1280, 900), ("phone", 390, 844)] {
        d.s(
            "POST",
            "/window/rect",
            Some(json!({"width": w, "height": h})),
        )
        .await;
        for scheme in ["light", "dark"] {
            d.call(
                "POST",
                &format!("/session/{}/goog/cdp/execute", d.session_id()),
                Some(json!({"cmd": "Emulation.setEmulatedMedia", "params": {
                    "features": [{"name": "prefers-color-scheme", "value": scheme}]}})),
            )
            .await;
            actix_web::rt::time::sleep(Duration::from_millis(300)).await;
            d.screenshot(&format!("{name}-{size}-{scheme}.png")).await;
        }
    }
    d.s(
        "POST",
        "/window/rect",
        Some(json!({"width": 1280, "height": 900})),
    )
    .await;
}

async fn count(d: &Driver, css: &str) -> u64 {
    eval(
        d,
        &format!("return document.querySelectorAll({css:?}).length"),
    )
    .await
    .as_u64()
    .unwrap_or(0)
}

async fn wait_until(d: &Driver, what: &str, script: &str, secs: u64) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while eval(d, script).await != json!(true) {
        assert!(Instant::now() < deadline, "never: {what}");
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    }
}

#[actix_web::test]
async fn the_cover_editor_generates_uploads_switches_layout_and_saves_in_chromium() {
    let Some(d) = Driver::start().await else {
        panic!("chromium / chromedriver missing: run scripts/install-browser.sh");
    };
    let app = spawn_app().await;
    d.go(&format!("{}/register", app.base)).await;
    d.type_into("input[name=email]", &unique_email()).await;
    d.type_into("input[name=password]", PASSWORD).await;
    d.click("form[action='/register'] button[type=submit]")
        .await;
    d.wait_url(|u| u.ends_with("/books")).await;
    let mut ids = Vec::new();
    for idea in [
        "A lighthouse keeper finds a message",
        "Una relojera en Sevilla y su reloj imposible",
    ] {
        d.go(&format!("{}/books/new", app.base)).await;
        d.type_into("textarea[name=idea]", idea).await;
        d.click("#wizard button[type=submit]").await;
        let url = d.wait_url(|u| !u.ends_with("/books/new")).await;
        ids.push(url.rsplit('/').next().unwrap_or("").to_string());
    }
    for id in &ids {
        let deadline = Instant::now() + Duration::from_secs(60);
        while book_status(&app, id) != "architecture_ready" {
            assert!(Instant::now() < deadline, "architecture never ready");
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let id = &ids[0];

    // Review page → cover editor.
    d.go(&format!("{}/books/{id}", app.base)).await;
    d.click("#review-cover-link").await;
    d.wait_url(|u| u.ends_with("/cover")).await;
    let before = count(&d, ".art-choice img").await;
    assert!(before >= 1, "the first cover's art is listed");

    // Generate: the page refreshes itself until the new candidate is there.
    d.click("#cover-generate button[type=submit]").await;
    wait_until(
        &d,
        "a generated candidate",
        &format!("return document.querySelectorAll('.art-choice img').length > {before} && !document.getElementById('cover-generating')"),
        30,
    )
    .await;

    // Upload a PNG through the page.
    let dir = tempfile::tempdir().expect("tmp");
    let png_path = dir.path().join("mine.png");
    image::RgbImage::from_fn(600, 960, |x, y| {
        image::Rgb([(x % 256) as u8, 80, (y % 256) as u8])
    })
    .save(&png_path)
    .expect("png");
    let input = d.find("#cover-upload input[type=file]").await;
    d.s(
        "POST",
        &format!("/element/{input}/value"),
        Some(json!({"text": png_path.to_string_lossy()})),
    )
    .await;
    let candidates = count(&d, ".art-choice img").await;
    d.click("#cover-upload button[type=submit]").await;
    wait_until(
        &d,
        "the uploaded image in the picker",
        &format!("return document.querySelectorAll('.art-choice img').length > {candidates}"),
        20,
    )
    .await;

    // A file that is not an image: the reason shows on the page, the picker is unchanged.
    let bad = dir.path().join("not-an-image.png");
    std::fs::write(&bad, "<svg><script>alert(1)</script></svg>").expect("write");
    let picked = count(&d, ".art-choice img").await;
    let input = d.find("#cover-upload input[type=file]").await;
    d.s(
        "POST",
        &format!("/element/{input}/value"),
        Some(json!({"text": bad.to_string_lossy()})),
    )
    .await;
    d.click("#cover-upload button[type=submit]").await;
    wait_until(&d, "the upload error", "const e = document.getElementById('cover-upload-error'); return !e.hidden && e.textContent.includes('JPEG')", 15).await;
    assert_eq!(count(&d, ".art-choice img").await, picked);

    // Switch the layout: the live preview follows before saving.
    let src_before = eval(&d, "return document.getElementById('cover-preview').src").await;
    d.click("input[name=template][value=split]").await;
    wait_until(
        &d,
        "the live preview",
        "return document.getElementById('cover-preview').src.includes('preview.jpg')",
        5,
    )
    .await;
    wait_until(&d, "the preview loaded", "const i = document.getElementById('cover-preview'); return i.complete && i.naturalWidth > 0", 10).await;
    assert_ne!(
        eval(&d, "return document.getElementById('cover-preview').src").await,
        src_before
    );
    d.type_into("input[name=title]", "El último faro").await;
    d.click("#cover-design button[type=submit]").await;
    wait_until(
        &d,
        "saved",
        "return document.querySelector('input[name=template][value=split]').checked",
        10,
    )
    .await;
    assert_eq!(
        eval(
            &d,
            "return document.querySelector('input[name=title]').value"
        )
        .await,
        json!("El último faro")
    );
    wait_until(&d, "the saved cover shown", "const i = document.getElementById('cover-preview'); return i.complete && i.naturalWidth > 0", 10).await;
    shots(&d, "cover-editor").await;

    // The library shows a thumbnail per book.
    d.go(&format!("{}/books", app.base)).await;
    wait_until(
        &d,
        "library thumbnails",
        "return [...document.querySelectorAll('.book-thumb img')].length === 2 && [...document.querySelectorAll('.book-thumb img')].every(i => i.complete && i.naturalWidth > 0)",
        30,
    )
    .await;
    shots(&d, "library-covers").await;
}
