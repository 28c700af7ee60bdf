//! The per-book cost limit, end to end over the Anthropic protocol (`buko fake-llm`, priced as Claude
//! Sonnet 4.5): approving with `{budget_usd: 0.05}` pauses the book with `budget_reached` before a call
//! that could pass the limit (spent ≤ limit + one chunk); raising the limit (API and page) and resuming
//! completes it.

use super::helpers::spawn_fake;
use crate::helpers::{author, create_book_via_api, spawn_app_with, wait_book_status, TestApp};

pub async fn app_on_fake(fake: &str) -> TestApp {
    let base = fake.to_string();
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

/// The book's architecture made of `chapters` chapters of `words` words each.
pub fn chapters(book: &serde_json::Value, chapters: usize, words: u32) -> serde_json::Value {
    let mut arch = book["architecture"].clone();
    let first = arch["chapters"][0].clone();
    arch["chapters"] = (0..chapters)
        .map(|i| {
            let mut c = first.clone();
            c["title"] = format!("Chapter {}", i + 1).into();
            c["target_words"] = words.into();
            c
        })
        .collect();
    serde_json::json!({ "architecture": arch })
}

fn chunk_costs(app: &TestApp, book_id: &str) -> Vec<f64> {
    use buko::db::schema::llm_calls;
    use diesel::prelude::*;
    llm_calls::table
        .filter(llm_calls::book_id.eq(book_id))
        .filter(llm_calls::purpose.eq("chunk"))
        .select(llm_calls::cost_usd)
        .load(&mut app.db())
        .expect("calls")
}

/// `status` events that paused the book on its limit.
async fn budget_pauses(a: &crate::helpers::Author, id: &str) -> usize {
    let events = a
        .api("GET", &format!("/api/v1/books/{id}/events"), None)
        .await
        .json();
    events
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["kind"] == "status" && e["data"]["reason"] == "budget_reached")
        .count()
}

#[actix_web::test]
async fn a_book_pauses_at_its_budget_and_completes_once_the_author_raises_it() {
    let fake = spawn_fake(|_| {}).await;
    let app = app_on_fake(&fake).await;
    let a = author(&app).await;
    let id = create_book_via_api(&a, "A ferryman keeps a ledger of every crossing").await;
    let book = wait_book_status(&a, &id, "architecture_ready").await;
    let res = a
        .api(
            "PUT",
            &format!("/api/v1/books/{id}/architecture"),
            Some(chapters(&book, 10, 1000)),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);

    // Bad limits are refused with a JSON body; the book stays ready.
    for bad in [
        serde_json::json!({"budget_usd": 0}),
        serde_json::json!({"budget_usd": -3}),
    ] {
        let res = a
            .api("POST", &format!("/api/v1/books/{id}/approve"), Some(bad))
            .await;
        assert_eq!(res.status, 422, "{}", res.body);
        assert_eq!(res.json()["error"], "invalid_input", "{}", res.body);
    }
    let res = a
        .api(
            "POST",
            &format!("/api/v1/books/{id}/approve"),
            Some(serde_json::json!({"budget_usd": "lots"})),
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.body);

    let res = a
        .api(
            "POST",
            &format!("/api/v1/books/{id}/approve"),
            Some(serde_json::json!({"budget_usd": 0.05})),
        )
        .await;
    assert_eq!(res.status, 202, "{}", res.body);
    let book = wait_book_status(&a, &id, "paused").await;
    assert_eq!(book["status_reason"], "budget_reached", "{book}");
    assert_eq!(book["budget_usd"], 0.05, "{book}");
    let spent = book["usage"]["cost_usd"].as_f64().expect("cost");
    let costs = chunk_costs(&app, &id);
    let one_chunk = costs.iter().copied().fold(0.0, f64::max);
    assert!(!costs.is_empty(), "some chunks were written first: {book}");
    assert!(
        spent <= 0.05 + one_chunk,
        "spent {spent} > budget + one chunk ({one_chunk})"
    );
    let (done, total) = (
        book["progress"]["chunks_done"].as_i64().unwrap_or(0),
        book["progress"]["chunks_total"].as_i64().unwrap_or(0),
    );
    assert!(done >= 1 && done < total, "{book}");

    // The live page says why, in the author's language, and offers the limit.
    let page = a.client.get(&format!("/books/{id}/live")).await;
    assert!(
        page.body.contains("reached its cost limit") && page.body.contains("id=\"budget-form\""),
        "{}",
        page.body
    );

    // Resuming without raising the limit pauses again before any call.
    let res = a
        .api("POST", &format!("/api/v1/books/{id}/resume"), None)
        .await;
    assert_eq!(res.status, 202, "{}", res.body);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while budget_pauses(&a, &id).await < 2 {
        assert!(std::time::Instant::now() < deadline, "never paused again");
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        chunk_costs(&app, &id).len(),
        costs.len(),
        "no call past the limit"
    );

    // The page door raises it a little (validated), the API door raises it enough.
    let token = a.client.csrf(&format!("/books/{id}/live")).await;
    let res = a
        .client
        .post_form(
            &format!("/books/{id}/budget"),
            &[("csrf_token", &token), ("budget_usd", "0,07")],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let res = a
        .api(
            "PATCH",
            &format!("/api/v1/books/{id}"),
            Some(serde_json::json!({"budget_usd": 1e9})),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.body);
    let res = a
        .api(
            "PATCH",
            &format!("/api/v1/books/{id}"),
            Some(serde_json::json!({"budget_usd": 5})),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.json()["budget_usd"], 5.0, "{}", res.body);
    let res = a
        .api("POST", &format!("/api/v1/books/{id}/resume"), None)
        .await;
    assert_eq!(res.status, 202, "{}", res.body);
    let book = wait_book_status(&a, &id, "completed").await;
    assert_eq!(
        book["progress"]["chunks_done"], book["progress"]["chunks_total"],
        "{book}"
    );
}
