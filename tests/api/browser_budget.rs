//! The cost limit and the estimate in headless Chromium: the review page shows the estimate (pages,
//! tokens, dollars) with the limit offered by the plan; the author changes it and approves; the live
//! page shows the limit with its form. Screenshots (desktop light, phone dark) under `test-artifacts/`.

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

/// Scrolls `css` into view and saves it desktop-light and phone-dark.
async fn shots(d: &Driver, css: &str, name: &str) {
    for (size, w, h, scheme) in [("desktop", 1280, 800, "light"), ("phone", 390, 844, "dark")] {
        d.s(
            "POST",
            "/window/rect",
            Some(json!({"width": w, "height": h})),
        )
        .await;
        d.call(
            "POST",
            &format!("/session/{}/goog/cdp/execute", d.session_id()),
            Some(json!({"cmd": "Emulation.setEmulatedMedia", "params": {
                "features": [{"name": "prefers-color-scheme", "value": scheme}]}})),
        )
        .await;
        d.s(
            "POST",
            "/execute/sync",
            Some(json!({"script": "document.querySelector(arguments[0]).scrollIntoView({block: 'center'})",
                "args": [css]})),
        )
        .await;
        d.screenshot(&format!("{name}-{size}-{scheme}.png")).await;
    }
}

#[actix_web::test]
async fn the_author_sets_the_cost_limit_when_approving_and_sees_it_while_writing() {
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
    d.type_into(
        "textarea[name=idea]",
        "A clockmaker repairs the town's last sundial",
    )
    .await;
    d.click("#wizard button[type=submit]").await;
    let url = d.wait_url(|u| !u.ends_with("/books/new")).await;
    let id = url.rsplit('/').next().unwrap_or("").to_string();
    wait_status(&app, &id, "architecture_ready").await;
    d.go(&url).await;
    let estimate = d.text("#estimate").await;
    assert!(
        estimate.contains("PDF pages") && estimate.contains('$'),
        "{estimate}"
    );
    // The free plan offers $5.00.
    let offered = d
        .s(
            "POST",
            "/execute/sync",
            Some(
                json!({"script": "return document.getElementById('budget_usd').value", "args": []}),
            ),
        )
        .await;
    assert_eq!(offered, json!("5.00"));
    d.type_into("#budget_usd", "7.5").await;
    shots(&d, "#estimate", "budget-review").await;
    d.click("#approve button[type=submit]").await;
    d.wait_url(|u| u.ends_with("/live")).await;
    let book = buko::db::repo::books::get(&mut app.db(), &id).expect("book");
    assert_eq!(book.budget_usd, Some(7.5));
    wait_status(&app, &id, "completed").await;
    d.go(&format!("{}/books/{id}/live", app.base)).await;
    let shown = d
        .s(
            "POST",
            "/execute/sync",
            Some(
                json!({"script": "return document.getElementById('live-budget').textContent",
                "args": []}),
            ),
        )
        .await;
    assert_eq!(shown, json!("7.50"));
    shots(&d, "#budget-form", "budget-live").await;
}
