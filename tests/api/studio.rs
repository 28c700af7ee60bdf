//! The author's studio through the API: controls that act at once (pause / cancel stop the stream in
//! progress; resume during a pause keeps writing), chapter states, and the library's search, delete
//! and duplicate.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{
    author, book_status, create_book_via_api, jobs_of, make_ready, spawn_app_with,
    wait_book_status, Author, TestApp,
};
use crate::llm::helpers::{spawn_fake, stats};

/// A book being written by a slow offline writer, with its first chunk started.
pub(crate) async fn writing_book(app: &TestApp, author: &Author) -> String {
    let id = create_book_via_api(author, "A keeper and a message").await;
    // The offline architecture job may win the race; either way the book reaches the outline.
    if book_status(app, &id) == "architecture_pending" {
        let _ = app
            .runner
            .store_architecture(&id, crate::helpers::sample_architecture())
            .await;
    }
    wait_book_status(author, &id, "architecture_ready").await;
    let res = author
        .api("POST", &format!("/api/v1/books/{id}/approve"), None)
        .await;
    assert_eq!(res.status, 202, "{}", res.body);
    wait_event(author, &id, "chunk_started", Duration::from_secs(20)).await;
    id
}

async fn events(author: &Author, id: &str) -> Vec<serde_json::Value> {
    let res = author
        .api("GET", &format!("/api/v1/books/{id}/events"), None)
        .await;
    res.json().as_array().cloned().unwrap_or_default()
}

async fn wait_event(author: &Author, id: &str, kind: &str, within: Duration) -> Duration {
    let t0 = Instant::now();
    loop {
        if events(author, id).await.iter().any(|e| e["kind"] == kind) {
            return t0.elapsed();
        }
        assert!(t0.elapsed() < within, "no {kind} event within {within:?}");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

pub(crate) fn slow(s: &mut buko::config::Settings) {
    // About 30 s per chunk: any stop observed here landed mid-chunk.
    s.llm.offline_tokens_per_sec = 40.0;
}

#[actix_web::test]
async fn pause_stops_the_chunk_in_progress_within_a_second() {
    let app = spawn_app_with(slow).await;
    let a = author(&app).await;
    let id = writing_book(&app, &a).await;
    let t0 = Instant::now();
    let res = a
        .api("POST", &format!("/api/v1/books/{id}/pause"), None)
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    // The engine records the pause when the stream has stopped: the durable event comes within 1 s.
    loop {
        let evs = events(&a, &id).await;
        if evs
            .iter()
            .any(|e| e["kind"] == "status" && e["data"]["status"] == "paused")
        {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(1),
            "no paused event within 1 s: {evs:?}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(25)).await;
    }
    // The partial chunk is not saved: it is written again from its start on resume.
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    let book = a
        .api("GET", &format!("/api/v1/books/{id}"), None)
        .await
        .json();
    assert_eq!(book["status"], "paused");
    assert_eq!(book["progress"]["chunks_done"], 0, "{book}");
}

#[actix_web::test]
async fn resume_pressed_before_the_pause_lands_keeps_writing() {
    let app = spawn_app_with(slow).await;
    let a = author(&app).await;
    let id = writing_book(&app, &a).await;
    let res = a
        .api("POST", &format!("/api/v1/books/{id}/pause"), None)
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let res = a
        .api("POST", &format!("/api/v1/books/{id}/resume"), None)
        .await;
    assert_eq!(res.status, 202, "{}", res.body);
    // Never left in `queued`: the job that was pausing writes on.
    wait_book_status(&a, &id, "generating").await;
    actix_web::rt::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(book_status(&app, &id), "generating");
    let started = events(&a, &id)
        .await
        .iter()
        .filter(|e| e["kind"] == "chunk_started")
        .count();
    assert!(started >= 2, "chunk 1 started again after the resume");
}

#[actix_web::test]
async fn cancel_closes_the_providers_stream_within_a_second() {
    let fake = spawn_fake(|o| {
        o.tokens_per_sec = 150.0;
        o.words = 4000;
    })
    .await;
    let base = fake.clone();
    let app = spawn_app_with(move |s| {
        s.llm = buko::llm::LlmSettings::from_lookup(|k| match k {
            "BUKO_LLM_PROVIDER" => Some("anthropic".into()),
            "ANTHROPIC_BASE_URL" => Some(base.clone()),
            "ANTHROPIC_API_KEY" => Some("x".into()),
            "BUKO_MODEL" => Some("claude-sonnet-4-5".into()),
            _ => None,
        })
        .expect("anthropic settings");
    })
    .await;
    let a = author(&app).await;
    let id = create_book_via_api(&a, "A keeper and a message").await;
    wait_book_status(&a, &id, "architecture_ready").await;
    let res = a
        .api("POST", &format!("/api/v1/books/{id}/approve"), None)
        .await;
    assert_eq!(res.status, 202, "{}", res.body);
    wait_event(&a, &id, "chunk_started", Duration::from_secs(20)).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while stats(&fake).await["bytes_sent"].as_u64().unwrap_or(0) < 2000 {
        assert!(Instant::now() < deadline, "the fake never streamed");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    let res = a
        .api("POST", &format!("/api/v1/books/{id}/cancel"), None)
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let at_click = stats(&fake).await["bytes_sent"].as_u64().unwrap_or(0);
    actix_web::rt::time::sleep(Duration::from_secs(1)).await;
    let s = stats(&fake).await;
    assert_eq!(
        s["open_streams"], 0,
        "stream still open 1 s after cancel: {s}"
    );
    let after_1s = s["bytes_sent"].as_u64().unwrap_or(0);
    actix_web::rt::time::sleep(Duration::from_millis(1500)).await;
    let later = stats(&fake).await["bytes_sent"].as_u64().unwrap_or(0);
    assert_eq!(later, after_1s, "the fake kept sending after the cancel");
    println!(
        "bytes sent after the cancel: {} (within 1 s), {} later",
        after_1s - at_click,
        later - after_1s
    );
    assert_eq!(book_status(&app, &id), "cancelled");
    let book = a
        .api("GET", &format!("/api/v1/books/{id}"), None)
        .await
        .json();
    assert_eq!(book["progress"]["chunks_done"], 0, "{book}");
}

#[actix_web::test]
async fn a_completed_books_chapters_are_all_done() {
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
    let chapters = a
        .api("GET", &format!("/api/v1/books/{id}/chapters"), None)
        .await
        .json();
    let states: Vec<_> = chapters
        .as_array()
        .expect("chapters")
        .iter()
        .map(|c| c["status"].clone())
        .collect();
    assert!(!states.is_empty());
    assert!(states.iter().all(|s| s == "done"), "{states:?}");
}

#[actix_web::test]
async fn library_search_duplicate_and_delete_through_the_api() {
    let app = spawn_app_with(|_| {}).await;
    let a = author(&app).await;
    let other = author(&app).await;
    let id = create_book_via_api(&a, "A keeper").await;
    if book_status(&app, &id) == "architecture_pending" {
        make_ready(&app, &id).await;
    }
    wait_book_status(&a, &id, "architecture_ready").await;
    let title = a
        .api("GET", &format!("/api/v1/books/{id}"), None)
        .await
        .json()["title"]
        .as_str()
        .expect("title")
        .to_string();
    let word = title
        .split_whitespace()
        .last()
        .expect("a word")
        .to_lowercase();

    // Search by title, case-insensitively; `%` is a literal.
    let found = a
        .api("GET", &format!("/api/v1/books?q={word}"), None)
        .await
        .json();
    assert_eq!(found.as_array().map(Vec::len), Some(1), "{found}");
    let none = a.api("GET", "/api/v1/books?q=%25zz", None).await.json();
    assert_eq!(none.as_array().map(Vec::len), Some(0), "{none}");
    let theirs = other
        .api("GET", &format!("/api/v1/books?q={word}"), None)
        .await
        .json();
    assert_eq!(theirs.as_array().map(Vec::len), Some(0), "{theirs}");

    // Duplicate: a new draft with the same architecture, ready to review.
    let res = a
        .api(
            "POST",
            &format!("/api/v1/books/{id}/duplicate"),
            Some(json!({"title": "Second"})),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.body);
    let copy = res.json()["id"].as_str().expect("id").to_string();
    let got = a
        .api("GET", &format!("/api/v1/books/{copy}"), None)
        .await
        .json();
    assert_eq!(got["status"], "architecture_ready");
    assert_eq!(got["title"], "Second");
    assert_eq!(
        got["architecture"]["chapters"].as_array().map(Vec::len),
        Some(3)
    );
    let res = other
        .api("POST", &format!("/api/v1/books/{id}/duplicate"), None)
        .await;
    assert_eq!(res.status, 404);

    // Delete: another user's book is not found; the owner's goes with its jobs and exports.
    a.api("POST", &format!("/api/v1/books/{copy}/approve"), None)
        .await;
    wait_book_status(&a, &copy, "completed").await;
    let res = a
        .api("GET", &format!("/api/v1/books/{copy}/export/md"), None)
        .await;
    assert_eq!(res.status, 200);
    let exports = app.data_dir.path().join("exports").join(&copy);
    assert!(exports.exists(), "export cached");
    assert_eq!(
        other
            .api("DELETE", &format!("/api/v1/books/{copy}"), None)
            .await
            .status,
        404
    );
    let res = a
        .api("DELETE", &format!("/api/v1/books/{copy}"), None)
        .await;
    assert_eq!(res.status, 204, "{}", res.body);
    assert_eq!(
        a.api("GET", &format!("/api/v1/books/{copy}"), None)
            .await
            .status,
        404
    );
    assert!(jobs_of(&app, &copy).is_empty(), "jobs removed");
    assert!(!exports.exists(), "exports removed");
    assert_eq!(
        a.api("DELETE", &format!("/api/v1/books/{copy}"), None)
            .await
            .status,
        404
    );
    let left = a.api("GET", "/api/v1/books", None).await.json();
    assert_eq!(left.as_array().map(Vec::len), Some(1), "{left}");
}
