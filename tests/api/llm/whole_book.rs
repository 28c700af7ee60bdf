//! The done-condition of the providers: with `BUKO_LLM_PROVIDER=anthropic` pointed at `buko fake-llm`, a
//! node writes a whole book through the engine — architecture, every chunk — and injected faults on the
//! way are retried as the engine's policy says.

use super::helpers::{script, spawn_fake};
use crate::helpers::{author, create_book_via_api, spawn_app_with, wait_book_status};

#[actix_web::test]
async fn a_whole_book_is_written_over_the_anthropic_protocol_despite_injected_faults() {
    let fake = spawn_fake(|o| o.retry_after_secs = 1).await;
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
    // The architecture request meets an overload first; the engine retries it.
    script(&fake, serde_json::json!([{ "fault": "overloaded" }])).await;
    let id = create_book_via_api(
        &a,
        "A cartographer maps a city that rearranges itself every night",
    )
    .await;
    let book = wait_book_status(&a, &id, "architecture_ready").await;
    assert!(
        book["architecture"]["chapters"]
            .as_array()
            .is_some_and(|c| !c.is_empty()),
        "{book}"
    );

    // Mid-book: a rate limit with retry-after and a stream cut by an error event.
    script(&fake, serde_json::json!([{ "fault": "rate_limit", "retry_after_ms": 300 }, { "fault": "error_event" }])).await;
    let res = a
        .api("POST", &format!("/api/v1/books/{id}/approve"), None)
        .await;
    assert_eq!(res.status, 202, "{}", res.body);
    let book = wait_book_status(&a, &id, "completed").await;
    let (done, total) = (
        &book["progress"]["chunks_done"],
        &book["progress"]["chunks_total"],
    );
    assert_eq!(done, total, "{book}");
    assert!(
        book["usage"]["output_tokens"].as_i64().unwrap_or(0) > 0,
        "usage accounted: {book}"
    );
    assert!(
        book["usage"]["cost_usd"].as_f64().unwrap_or(0.0) > 0.0,
        "priced as a Claude model: {book}"
    );

    let mut stats = awc::Client::new()
        .get(format!("{fake}/_fake/stats"))
        .send()
        .await
        .expect("stats");
    let stats: serde_json::Value = stats.json().await.expect("stats json");
    assert!(stats["requests"].as_u64().unwrap_or(0) >= 4, "{stats}");
    let calls: i64 = {
        use buko::db::schema::llm_calls;
        use diesel::prelude::*;
        llm_calls::table
            .filter(llm_calls::status.ne("ok"))
            .count()
            .get_result(&mut app.db())
            .expect("calls")
    };
    assert!(calls >= 3, "the failed attempts are recorded too ({calls})");
}
