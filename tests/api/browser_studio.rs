//! The chapter editor in headless Chromium (issue 13): autosave shows "saved", the version list, the
//! comparison, restore (after a confirmation) and the export showing the restored text; screenshots of
//! the review, live (finished), reader, editor, library, settings, billing and an error page, desktop 1280×800 and phone 390×844, light and dark,
//! saved under `test-artifacts/`.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::browser::Driver;
use crate::helpers::{book_status, spawn_app, unique_email, PASSWORD};

async fn wait_status(app: &crate::helpers::TestApp, id: &str, wanted: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while book_status(app, id) != wanted {
        assert!(Instant::now() < deadline, "never {wanted}");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

pub(crate) async fn shots(d: &Driver, url: &str, name: &str) {
    d.go(url).await;
    for (size, w, h) in [("desktop", 1280, 800), ("phone", 390, 844)] {
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
            d.screenshot(&format!("{name}-{size}-{scheme}.png")).await;
        }
    }
}

#[actix_web::test]
async fn edit_autosaves_versions_compare_restore_and_the_export_follows_in_chromium() {
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
    d.go(&format!("{}/books/new", app.base)).await;
    d.type_into("textarea[name=idea]", "A lighthouse keeper finds a message")
        .await;
    d.click("#wizard button[type=submit]").await;
    let url = d.wait_url(|u| !u.ends_with("/books/new")).await;
    let id = url.rsplit('/').next().unwrap_or("").to_string();
    wait_status(&app, &id, "architecture_ready").await;
    d.go(&url).await;
    shots(&d, &url, "review").await;
    d.click("#approve").await;
    wait_status(&app, &id, "completed").await;

    let editor = format!("{}/books/{id}/chapters/0/edit", app.base);
    d.go(&editor).await;
    d.type_into(
        "#chapter-content",
        "The keeper climbed the *stairs*.\n\nEDITED-IN-BROWSER.",
    )
    .await;
    // Autosave after the author stops typing, with a visible state.
    d.wait_text("#editor-status", "All changes saved", 10).await;
    d.go(&editor).await;
    assert!(d.text("#versions").await.contains("Original"));
    shots(&d, &editor, "editor").await;
    d.go(&format!("{}/books/{id}/chapters/0/versions/1", app.base))
        .await;
    d.click("form.confirm button[type=submit]").await;
    d.s("POST", "/alert/accept", Some(json!({}))).await;
    d.wait_url(|u| u.contains("/edit?saved=1")).await;
    let md = d
        .s(
            "POST",
            "/execute/sync",
            Some(
                json!({"script": "return fetch(arguments[0]).then(r => r.text())",
                        "args": [format!("/books/{id}/export/md")]}),
            ),
        )
        .await;
    let md = md.as_str().unwrap_or_default();
    assert!(md.contains("## "), "{md}");
    assert!(
        !md.contains("EDITED-IN-BROWSER"),
        "the export shows the restored text"
    );

    shots(&d, &format!("{}/books/{id}/read", app.base), "reader").await;
    shots(&d, &format!("{}/books/{id}/live", app.base), "live-done").await;
    shots(&d, &format!("{}/books", app.base), "library").await;
    shots(&d, &format!("{}/billing", app.base), "billing").await;
    shots(&d, &format!("{}/settings", app.base), "settings").await;
    shots(&d, &format!("{}/books/no-such-book", app.base), "error").await;
}
