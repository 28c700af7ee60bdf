//! Limits and errors in headless Chromium: the quota refusal in Spanish keeps the typed idea and says
//! the wait in words, a signed-in 404 keeps the signed-in header, and the buttons that would spend a
//! used-up quota are disabled with the reason. Screenshots (`limits-*`, desktop and phone, light and
//! dark) go to `test-artifacts/`.

use crate::browser::Driver;
use crate::browser_studio::shots;
use crate::helpers::{author, create_book_via_api, make_ready, spawn_web_app};
use crate::studio_browser::{js, login};

#[actix_web::test]
async fn quota_page_in_spanish_keeps_the_idea_404_is_signed_in_and_buttons_wait_at_zero() {
    let Some(d) = Driver::start().await else {
        panic!("chromium / chromedriver missing: run scripts/install-browser.sh");
    };
    let app = spawn_web_app().await;
    let a = author(&app).await;
    let token = a.client.csrf("/settings").await;
    let res = a
        .client
        .post_form(
            "/settings/language",
            &[("csrf_token", &token), ("lang", "es")],
        )
        .await;
    assert_eq!(res.status, 303);
    login(&d, &app.base, &a).await;

    // The wizard opened while outlines were left; they run out (another tab, the API) before submit.
    d.go(&format!("{}/books/new", app.base)).await;
    let idea = "Un faro en la costa de Galicia guarda un secreto desde 1898";
    d.type_into("textarea[name=idea]", idea).await;
    let mut ids = vec![];
    for i in 0..3 {
        ids.push(create_book_via_api(&a, &format!("Libro {i}")).await);
    }
    d.click("#wizard button[type=submit]").await;
    let notice = d.wait_text("#wizard-blocked", "minutos", 10).await;
    assert!(notice.contains("en 59 minutos"), "{notice}");
    assert!(!notice.contains("segundos"));
    let kept = js(
        &d,
        "return document.querySelector('textarea[name=idea]').value;",
    )
    .await;
    assert_eq!(kept.as_str(), Some(idea), "the typed idea comes back");
    let disabled = js(
        &d,
        "return document.querySelector('#wizard button[type=submit]').disabled;",
    )
    .await;
    assert_eq!(disabled, true, "no submit while no outline is left");
    assert!(
        d.text("header nav").await.contains("Ajustes"),
        "signed-in header in Spanish"
    );
    shots(&d, &format!("{}/books/new", app.base), "limits-wizard").await;

    // Approve waits too once the hour's books are used.
    for id in &ids {
        make_ready(&app, id).await;
    }
    for id in &ids[..2] {
        let res = a
            .api("POST", &format!("/api/v1/books/{id}/approve"), None)
            .await;
        assert_eq!(res.status, 202, "{}", res.body);
    }
    d.go(&format!("{}/books/{}", app.base, ids[2])).await;
    let why = d.text("#approve-blocked").await;
    assert!(why.contains("Libros") || why.contains("libros"), "{why}");
    assert!(why.contains("minutos"), "{why}");
    let disabled = js(
        &d,
        "return document.querySelector('#approve button[type=submit]').disabled;",
    )
    .await;
    assert_eq!(disabled, true, "Approve disabled at quota 0");

    // A 404 while signed in: the normal layout, signed in, in Spanish.
    d.go(&format!("{}/no/existe", app.base)).await;
    let msg = d.text("#error-message").await;
    assert_eq!(msg, "No hemos encontrado esa página.");
    let logout = js(
        &d,
        "return document.querySelectorAll('header form[action=\"/logout\"]').length;",
    )
    .await;
    assert_eq!(logout, 1, "signed-in header on the error page");
    shots(&d, &format!("{}/no/existe", app.base), "limits-404").await;
    d.s("DELETE", "", None).await;
}
