//! Limits and errors that respect the user: error pages inside the normal layout (signed-in header,
//! the user's language), the wait in words, the wizard's idea kept on a quota or validation refusal,
//! buttons that would spend a used-up quota disabled with the reason, and field errors in plain words.

use crate::helpers::{author, create_book_via_api, make_ready, spawn_web_app, Author, TestApp};

async fn in_spanish(a: &Author) {
    let token = a.client.csrf("/settings").await;
    let res = a
        .client
        .post_form(
            "/settings/language",
            &[("csrf_token", &token), ("lang", "es")],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
}

async fn use_up_architectures(a: &Author) {
    for i in 0..3 {
        create_book_via_api(a, &format!("Book {i}")).await;
    }
}

fn book_count(app: &TestApp) -> usize {
    use diesel::prelude::*;
    buko::db::schema::books::table
        .count()
        .get_result::<i64>(&mut app.db())
        .expect("count") as usize
}

#[actix_web::test]
async fn a_signed_in_404_keeps_the_signed_in_header_and_language() {
    let app = spawn_web_app().await;
    let a = author(&app).await;
    in_spanish(&a).await;
    let res = a.client.get("/no/such/page").await;
    assert_eq!(res.status, 404);
    assert!(res.body.contains("action=\"/logout\""), "signed-in header");
    assert!(res.body.contains("href=\"/books\""), "library link");
    assert!(res.body.contains("No hemos encontrado esa página."));
    assert!(res.body.contains("<html lang=\"es\">"));
    // Signed out, the same page has the sign-in links.
    let anon = crate::helpers::Client::new(&app);
    let res = anon.get("/no/such/page").await;
    assert_eq!(res.status, 404);
    assert!(!res.body.contains("action=\"/logout\""));
    assert!(res.body.contains("href=\"/login\""));
}

#[actix_web::test]
async fn the_quota_page_in_spanish_keeps_the_idea_and_says_the_wait_in_words() {
    let app = spawn_web_app().await;
    let a = author(&app).await;
    in_spanish(&a).await;
    use_up_architectures(&a).await;

    // Before typing: the submit button is disabled, with the reason and the wait.
    let page = a.client.get("/books/new").await;
    assert!(page.body.contains("id=\"wizard-blocked\""), "{}", page.body);
    assert!(page
        .body
        .contains("disabled aria-describedby=\"wizard-blocked\""));
    assert!(page.body.contains("en 59 minutos"), "wait in words");

    let idea = "Un faro en la costa de Galicia guarda un secreto";
    let token = a.client.csrf("/books/new").await;
    let res = a
        .client
        .post_form(
            "/books",
            &[("csrf_token", &token), ("idea", idea), ("language", "es")],
        )
        .await;
    assert_eq!(res.status, 429);
    assert!(res.header("retry-after").is_some());
    assert!(res.body.contains(idea), "the idea comes back in the form");
    assert!(res.body.contains("Has usado todos los esquemas"));
    assert!(res.body.contains("en 59 minutos"), "{}", res.body);
    assert!(!res.body.contains("segundos"), "no seconds count");
    assert!(res.body.contains("action=\"/logout\""), "signed-in header");
    assert_eq!(book_count(&app), 3);
}

#[actix_web::test]
async fn an_idea_far_too_long_comes_back_with_a_plain_message() {
    let app = spawn_web_app().await;
    let a = author(&app).await;
    in_spanish(&a).await;
    let idea = "a".repeat(100_000);
    let token = a.client.csrf("/books/new").await;
    let res = a
        .client
        .post_form(
            "/books",
            &[("csrf_token", &token), ("idea", &idea), ("language", "es")],
        )
        .await;
    assert_eq!(res.status, 422, "a form again, not a bare 413");
    assert!(res.body.contains(&idea), "the text is kept");
    assert!(
        res.body
            .contains("Tu idea: 5.000 caracteres como máximo. Acorta el texto, por favor."),
        "plain words"
    );
    // Out-of-range pages: a sentence, not a range written as code.
    let res = a
        .client
        .post_form(
            "/books",
            &[
                ("csrf_token", &token),
                ("idea", "short"),
                ("target_pages", "5000"),
            ],
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(res.body.contains("elige un número entre 10 y 1000"));
    assert!(!res.body.contains("..="));
    assert_eq!(book_count(&app), 0);
}

#[actix_web::test]
async fn a_word_target_out_of_range_is_said_in_plain_words() {
    let app = spawn_web_app().await;
    let a = author(&app).await;
    let id = create_book_via_api(&a, "plain words").await;
    make_ready(&app, &id).await;
    let token = a.client.csrf(&format!("/books/{id}")).await;
    let res = a
        .client
        .post_form(
            &format!("/books/{id}/architecture"),
            &[
                ("csrf_token", &token),
                ("title", "T"),
                ("language", "en"),
                ("ch_count", "1"),
                ("ch0_title", "One"),
                ("ch0_words", "50"),
            ],
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(
        res.body
            .contains("Chapter 1 asks for 50 words; a chapter can have from 100 to 20,000 words."),
        "{}",
        res.body
    );
    assert!(!res.body.contains("..="));
}

#[actix_web::test]
async fn approve_is_disabled_with_the_reason_when_no_book_is_left() {
    let app = spawn_web_app().await;
    let a = author(&app).await;
    let mut ids = vec![];
    for i in 0..3 {
        let id = create_book_via_api(&a, &format!("Book {i}")).await;
        make_ready(&app, &id).await;
        ids.push(id);
    }
    let page = a.client.get(&format!("/books/{}", ids[0])).await;
    assert!(!page.body.contains("id=\"approve-blocked\""), "books left");
    for id in &ids[..2] {
        let res = a
            .api("POST", &format!("/api/v1/books/{id}/approve"), None)
            .await;
        assert_eq!(res.status, 202, "{}", res.body);
    }
    let page = a.client.get(&format!("/books/{}", ids[2])).await;
    assert!(
        page.body.contains("id=\"approve-blocked\""),
        "{}",
        page.body
    );
    assert!(page
        .body
        .contains("disabled aria-describedby=\"approve-blocked\""));
    assert!(page.body.contains("in 59 minutes"));
    // Posting anyway (an old tab): the review again, with the wait in words.
    let token = a.client.csrf(&format!("/books/{}", ids[2])).await;
    let res = a
        .client
        .post_form(
            &format!("/books/{}/approve", ids[2]),
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(res.status, 429);
    assert!(res.body.contains("You can approve this one in 59 minutes."));
}

#[actix_web::test]
async fn a_csrf_failure_page_is_signed_in_and_localized() {
    let app = spawn_web_app().await;
    let a = author(&app).await;
    in_spanish(&a).await;
    let res = a
        .client
        .post_form("/books", &[("csrf_token", "wrong"), ("idea", "x")])
        .await;
    assert_eq!(res.status, 403);
    assert!(res.body.contains("El formulario caducó"));
    assert!(res.body.contains("action=\"/logout\""));
    assert!(res.body.contains("data-back"), "offers to go back");
}

#[actix_web::test]
async fn the_reader_and_live_view_render_emphasis_safely_and_the_editor_keeps_it_raw() {
    let app = crate::helpers::spawn_app().await;
    let a = author(&app).await;
    let id = crate::versions::completed_book(&a).await;
    let text =
        "She said *never* and __meant__ it.\n\nA snake_case name, 5 * 3, <b>not bold</b> _quiet_.";
    let res = a
        .api(
            "PUT",
            &format!("/api/v1/books/{id}/chapters/0"),
            Some(serde_json::json!({ "content": text })),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    for path in [format!("/books/{id}/read"), format!("/books/{id}/live")] {
        let page = a.client.get(&path).await;
        assert_eq!(page.status, 200);
        let body = &page.body;
        assert!(
            body.contains("She said <em>never</em> and <strong>meant</strong> it."),
            "{path}: {body}"
        );
        assert!(
            body.contains(
                "A snake_case name, 5 * 3, &#60;b&#62;not bold&#60;/b&#62; <em>quiet</em>."
            ),
            "{path}"
        );
        assert!(!body.contains("<b>not bold"), "{path}: escaped first");
    }
    let editor = a.client.get(&format!("/books/{id}/chapters/0/edit")).await;
    assert!(
        editor.body.contains("She said *never* and __meant__ it."),
        "raw in the editor"
    );
}
