//! The book's memory over the API: the continuity audit (findings quoted from the chapter, an
//! unfounded one dropped, dismiss, apply as a new version, the switch) and the story ledger learned
//! from the text and corrected by the author. Written on `buko fake-llm` over the Anthropic protocol:
//! its audit answers carry a finding whose quote is not in the chapter.

use buko::db::schema::llm_calls;
use diesel::prelude::*;
use serde_json::json;

use crate::helpers::{
    author, create_book_via_api, spawn_app, spawn_app_with, wait_book_status, Author, TestApp,
};
use crate::llm::helpers::spawn_fake;

async fn fake_app() -> TestApp {
    let base = spawn_fake(|_| {}).await;
    spawn_app_with(move |s| {
        s.llm = buko::llm::LlmSettings::from_lookup(|k| match k {
            "BUKO_LLM_PROVIDER" => Some("anthropic".into()),
            "ANTHROPIC_BASE_URL" => Some(base.clone()),
            "ANTHROPIC_API_KEY" => Some("x".into()),
            "BUKO_MODEL" => Some("claude-sonnet-4-5".into()),
            _ => None,
        })
        .expect("anthropic settings");
    })
    .await
}

async fn ready_book(a: &Author) -> String {
    let id = create_book_via_api(a, "A keeper of a lighthouse finds a message in a bottle").await;
    wait_book_status(a, &id, "architecture_ready").await;
    id
}

async fn approve(a: &Author, id: &str) {
    let res = a
        .api("POST", &format!("/api/v1/books/{id}/approve"), None)
        .await;
    assert_eq!(res.status, 202, "{}", res.body);
    wait_book_status(a, id, "completed").await;
}

fn audit_calls(app: &TestApp, id: &str) -> i64 {
    llm_calls::table
        .filter(llm_calls::book_id.eq(id))
        .filter(llm_calls::purpose.eq("audit"))
        .count()
        .get_result(&mut app.db())
        .expect("count")
}

#[actix_web::test]
async fn findings_quote_the_chapter_and_can_be_dismissed_or_applied() {
    let app = fake_app().await;
    let a = author(&app).await;
    let id = ready_book(&a).await;
    approve(&a, &id).await;
    assert!(
        audit_calls(&app, &id) > 0,
        "the audit's calls are in the usage ledger"
    );

    let report = a
        .api("GET", &format!("/api/v1/books/{id}/audit"), None)
        .await;
    assert_eq!(report.status, 200, "{}", report.body);
    let report = report.json();
    assert_eq!(report["enabled"], true);
    let findings = report["findings"].as_array().cloned().unwrap_or_default();
    assert!(findings.len() >= 2, "{report}");
    let chapters = a
        .api("GET", &format!("/api/v1/books/{id}/chapters"), None)
        .await
        .json();
    for f in &findings {
        let n = f["chapter_index"].as_u64().expect("chapter") as usize;
        let text = chapters[n]["content"].as_str().expect("text");
        let quote = f["quote"].as_str().expect("quote");
        assert!(text.contains(quote), "the quote is in chapter {n}: {quote}");
        assert_eq!(f["status"], "open");
    }
    assert!(
        !report.to_string().contains("never written"),
        "the finding without evidence was dropped"
    );

    let first = findings[0]["id"].as_str().expect("id");
    let path = format!("/api/v1/books/{id}/audit/{first}/dismiss");
    let res = a.api("POST", &path, None).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(
        a.api("POST", &path, None).await.status,
        422,
        "already dismissed"
    );
    let missing = format!("/api/v1/books/{id}/audit/no-such-finding/dismiss");
    assert_eq!(a.api("POST", &missing, None).await.status, 404);

    // Applying one rewrites its chapter: the text it had becomes a version.
    let other = &findings[1];
    let n = other["chapter_index"].as_u64().expect("chapter");
    let fid = other["id"].as_str().expect("id");
    let res = a
        .api(
            "POST",
            &format!("/api/v1/books/{id}/audit/{fid}/apply"),
            None,
        )
        .await;
    assert_eq!(res.status, 202, "{}", res.body);
    wait_book_status(&a, &id, "completed").await;
    let history = a
        .api(
            "GET",
            &format!("/api/v1/books/{id}/chapters/{n}/versions"),
            None,
        )
        .await
        .json();
    assert_eq!(
        history["versions"].as_array().map(Vec::len),
        Some(1),
        "{history}"
    );
    assert_eq!(history["current"]["revision"]["kind"], "regenerate");
    let report = a
        .api("GET", &format!("/api/v1/books/{id}/audit"), None)
        .await
        .json();
    let statuses: Vec<(&str, &str)> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| Some((f["id"].as_str()?, f["status"].as_str()?)))
        .collect();
    assert!(statuses.contains(&(first, "dismissed")), "{report}");
    assert!(statuses.contains(&(fid, "applied")), "{report}");

    // Another user sees nothing.
    let b = author(&app).await;
    assert_eq!(
        b.api("GET", &format!("/api/v1/books/{id}/audit"), None)
            .await
            .status,
        404
    );
}

#[actix_web::test]
async fn the_ledger_learns_from_the_text_and_the_author_corrects_it() {
    let app = spawn_app().await;
    let a = author(&app).await;
    let id = ready_book(&a).await;
    approve(&a, &id).await;
    let ledger = a
        .api("GET", &format!("/api/v1/books/{id}/ledger"), None)
        .await;
    assert_eq!(ledger.status, 200, "{}", ledger.body);
    let ledger = ledger.json();
    let learned = ledger["characters"].as_array().map_or(0, Vec::len)
        + ledger["places"].as_array().map_or(0, Vec::len);
    assert!(
        learned > 0,
        "the offline book's ledger learned names: {ledger}"
    );

    let mine = json!({ "characters": [{ "name": " Ilsa Marr ", "role": "the keeper's sister" }],
                       "places": [], "facts": ["The lighthouse was built in 1871"] });
    let res = a
        .api("PUT", &format!("/api/v1/books/{id}/ledger"), Some(mine))
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.json()["characters"][0]["name"], "Ilsa Marr");
    let book = a
        .api("GET", &format!("/api/v1/books/{id}"), None)
        .await
        .json();
    assert_eq!(
        book["architecture"]["bible"]["learned"]["facts"][0],
        "The lighthouse was built in 1871"
    );
    let bad = a
        .api(
            "PUT",
            &format!("/api/v1/books/{id}/ledger"),
            Some(json!({ "characters": [{ "role": "x" }] })),
        )
        .await;
    assert_eq!(bad.status, 400, "{}", bad.body);
}

#[actix_web::test]
async fn an_audit_turned_off_makes_no_audit_call() {
    let app = spawn_app().await;
    let a = author(&app).await;
    let id = ready_book(&a).await;
    let res = a
        .api(
            "PUT",
            &format!("/api/v1/books/{id}/audit"),
            Some(json!({ "enabled": false })),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    approve(&a, &id).await;
    let report = a
        .api("GET", &format!("/api/v1/books/{id}/audit"), None)
        .await
        .json();
    assert_eq!(report["enabled"], false);
    assert_eq!(report["findings"].as_array().map(Vec::len), Some(0));
    assert_eq!(audit_calls(&app, &id), 0);
}

#[actix_web::test]
async fn the_reader_highlights_the_quote_and_its_forms_dismiss_and_correct_the_ledger() {
    let app = spawn_app().await;
    let a = author(&app).await;
    let id = ready_book(&a).await;
    approve(&a, &id).await;
    let report = a
        .api("GET", &format!("/api/v1/books/{id}/audit"), None)
        .await
        .json();
    let finding = report["findings"][0].clone();
    let quote = finding["quote"]
        .as_str()
        .expect("the offline writer's finding");
    let page = a.client.get(&format!("/books/{id}/read")).await;
    assert_eq!(page.status, 200);
    let first_words = quote
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
        .replace('&', "&amp;")
        .replace('\'', "&#x27;")
        .replace('"', "&quot;");
    let marked = page
        .body
        .find("<mark class=\"finding\">")
        .expect("a highlighted quote");
    assert!(
        page.body[marked..].contains(&first_words),
        "the highlight holds the quote ({first_words})"
    );
    assert!(page.body.contains("Continuity audit"));

    let token = a.client.csrf(&format!("/books/{id}/read")).await;
    let fid = finding["id"].as_str().expect("id");
    let res = a
        .client
        .post_form(
            &format!("/books/{id}/audit/{fid}/dismiss"),
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let res = a
        .client
        .post_form(
            &format!("/books/{id}/ledger"),
            &[
                ("csrf_token", &token),
                ("characters", "Ilsa Marr — the keeper's sister\n\n"),
                ("places", "Port Elim"),
                ("facts", "The lamp was lit in 1871"),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let ledger = a
        .api("GET", &format!("/api/v1/books/{id}/ledger"), None)
        .await
        .json();
    assert_eq!(ledger["characters"][0]["name"], "Ilsa Marr");
    assert_eq!(ledger["characters"][0]["role"], "the keeper's sister");
    assert_eq!(ledger["places"][0]["name"], "Port Elim");
    let res = a
        .client
        .post_form(&format!("/books/{id}/audit"), &[("csrf_token", &token)])
        .await;
    assert_eq!(res.status, 303, "unticked: off");
    let report = a
        .api("GET", &format!("/api/v1/books/{id}/audit"), None)
        .await
        .json();
    assert_eq!(report["enabled"], false);
    assert_eq!(report["findings"][0]["status"], "dismissed");
}
