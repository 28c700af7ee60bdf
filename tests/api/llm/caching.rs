//! Prompt caching over the Anthropic protocol (`buko fake-llm` caches `cache_control` prefixes as the
//! API does): the same book written with caching on and off. With it on, the first chunk writes the
//! stable prefix (system, book, bible, outline of titles) to the cache and every later chunk reads it;
//! the writing's input cost (chunks and summaries, at Claude Sonnet 4.5's cache rates) falls by at
//! least half.

use buko_actors::Usage;

use super::budget::app_on_fake;
use super::helpers::spawn_fake;
use crate::helpers::{author, create_book_via_api, spawn_app_with, wait_book_status, TestApp};

/// A 100-chapter book with a full bible: the kind of book whose every chunk repeats a long prefix.
pub fn big_architecture(book: &serde_json::Value, words: u32) -> serde_json::Value {
    let mut arch = book["architecture"].clone();
    arch["synopsis"] = "A ferryman keeps a ledger of every crossing; the river keeps its own. "
        .repeat(11)
        .into();
    arch["bible"]["characters"] = (0..12)
        .map(|i| {
            serde_json::json!({"name": format!("Character {i}"), "role": "crossing",
                "description": format!("{i} remembers every fare, every storm and every face. ").repeat(5)})
        })
        .collect();
    arch["chapters"] = (0..100)
        .map(|i| {
            serde_json::json!({"title": format!("Crossing {i}: the night the river carried a stranger's lantern downstream"),
                "summary": format!("The crossing number {i}."), "key_points": ["a fare", "a storm"],
                "target_words": words})
        })
        .collect();
    serde_json::json!({ "architecture": arch })
}

/// Per call of the writing (chunks then summaries by time): (purpose, usage).
fn writing_calls(app: &TestApp, book_id: &str) -> Vec<(String, Usage)> {
    use buko::db::schema::llm_calls;
    use diesel::prelude::*;
    llm_calls::table
        .filter(llm_calls::book_id.eq(book_id))
        .filter(llm_calls::purpose.ne("architecture"))
        .order(llm_calls::created_at.asc())
        .select((
            llm_calls::purpose,
            llm_calls::input_tokens,
            llm_calls::output_tokens,
            llm_calls::cache_creation_tokens,
            llm_calls::cache_read_tokens,
        ))
        .load::<(String, i64, i64, i64, i64)>(&mut app.db())
        .expect("calls")
        .into_iter()
        .map(|(p, i, o, w, r)| {
            let n = |v: i64| u64::try_from(v).unwrap_or(0);
            let usage = Usage {
                input_tokens: n(i),
                output_tokens: n(o),
                cache_creation_input_tokens: n(w),
                cache_read_input_tokens: n(r),
            };
            (p, usage)
        })
        .collect()
}

async fn write_book(app: &TestApp) -> (String, serde_json::Value) {
    let a = author(app).await;
    let id = create_book_via_api(&a, "A ferryman keeps a ledger of every crossing").await;
    let book = wait_book_status(&a, &id, "architecture_ready").await;
    let res = a
        .api(
            "PUT",
            &format!("/api/v1/books/{id}/architecture"),
            Some(big_architecture(&book, 100)),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    // The writing's caching is measured here: the continuity audit (its own prompts, a whole
    // chapter each, nothing shared to cache) is off.
    let res = a
        .api(
            "PUT",
            &format!("/api/v1/books/{id}/audit"),
            Some(serde_json::json!({"enabled": false})),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let res = a
        .api(
            "POST",
            &format!("/api/v1/books/{id}/approve"),
            Some(serde_json::json!({"budget_usd": 100})),
        )
        .await;
    assert_eq!(res.status, 202, "{}", res.body);
    let book = wait_book_status(&a, &id, "completed").await;
    (id, book)
}

#[actix_web::test]
async fn later_chunks_read_the_cached_prefix_and_input_cost_falls_by_half() {
    let fake = spawn_fake(|_| {}).await;
    let price = buko::llm::pricing::price_for("claude-sonnet-4-5");

    let cached_app = app_on_fake(&fake).await;
    let (id, book) = write_book(&cached_app).await;
    let calls = writing_calls(&cached_app, &id);
    let chunks: Vec<&Usage> = calls
        .iter()
        .filter(|(p, _)| p == "chunk")
        .map(|(_, u)| u)
        .collect();
    assert_eq!(chunks.len(), 100);
    assert!(
        chunks[0].cache_creation_input_tokens >= 1024,
        "{:?}",
        chunks[0]
    );
    for (i, u) in chunks.iter().enumerate().skip(1) {
        assert!(
            u.cache_read_input_tokens >= 1024 && u.cache_creation_input_tokens == 0,
            "chunk {} read no cache: {u:?}",
            i + 1
        );
    }
    assert!(
        book["usage"]["cache_read_input_tokens"]
            .as_i64()
            .unwrap_or(0)
            > 0,
        "{book}"
    );
    let cached_cost: f64 = calls.iter().map(|(_, u)| price.input_cost(*u)).sum();

    let base = fake.clone();
    let plain_app = spawn_app_with(move |s| {
        s.llm = buko::llm::LlmSettings::from_lookup(|k| match k {
            "BUKO_LLM_PROVIDER" => Some("anthropic".into()),
            "ANTHROPIC_BASE_URL" => Some(base.clone()),
            "ANTHROPIC_API_KEY" => Some("x".into()),
            "BUKO_MODEL" => Some("claude-sonnet-4-5".into()),
            "BUKO_PROMPT_CACHE" => Some("off".into()),
            _ => None,
        })
        .expect("anthropic settings");
    })
    .await;
    let (id, book) = write_book(&plain_app).await;
    let calls = writing_calls(&plain_app, &id);
    assert!(calls
        .iter()
        .all(|(_, u)| u.cache_read_input_tokens == 0 && u.cache_creation_input_tokens == 0));
    assert_eq!(book["usage"]["cache_read_input_tokens"], 0, "{book}");
    let plain_cost: f64 = calls.iter().map(|(_, u)| price.input_cost(*u)).sum();
    println!("input cost of the writing: cached ${cached_cost:.4}, uncached ${plain_cost:.4}");
    assert!(
        cached_cost <= plain_cost / 2.0,
        "cached ${cached_cost:.4} vs uncached ${plain_cost:.4}"
    );
}
