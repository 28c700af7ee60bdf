//! The OpenAI-compatible client (Ollama, vLLM, llama.cpp) against canned streams.

use std::time::Duration;

use buko::llm::openai::{OpenAiConfig, OpenAiProvider};
use buko::secret::Secret;
use buko_actors::{LlmErrorKind, StopReason, Usage};
use serde_json::json;

use super::canned::{spawn_canned, Canned};
use super::helpers::{request, run, timeouts};

fn provider(base: &str, key: &str) -> OpenAiProvider {
    buko::llm::init_tls();
    OpenAiProvider::new(OpenAiConfig {
        base_url: format!("{base}/v1"),
        api_key: Secret::new(key),
        model: "llama3.1:8b".into(),
        max_output_tokens: 4096,
        timeouts: timeouts(2000),
        step_models: Default::default(),
    })
}

fn chunk(content: &str, finish: Option<&str>) -> String {
    let c = json!({"id": "c", "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": finish}]});
    format!("data: {c}\n\n")
}

#[actix_web::test]
async fn stream_with_usage_and_done() {
    let usage =
        json!({"id": "c", "choices": [], "usage": {"prompt_tokens": 11, "completion_tokens": 5}});
    let body = [
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n".to_string(),
        chunk("Hello, ", None),
        format!("{}{}", chunk("world", None), chunk("", Some("stop"))),
        format!("data: {usage}\n\n"),
        "data: [DONE]\n\n".to_string(),
    ];
    let mut answer = Canned::sse(&body.iter().map(String::as_str).collect::<Vec<_>>());
    answer.headers.push(("x-request-id", "abc".into()));
    let server = spawn_canned(vec![answer]).await;
    let o = run(&provider(&server.base, "sk-o"), request(300)).await;
    assert_eq!(o.text, "Hello, world");
    assert_eq!(
        o.finished,
        Some((StopReason::EndTurn, Usage::new(11, 5), Some("abc".into())))
    );
    let r = &server.requests()[0];
    assert_eq!(r.path, "/v1/chat/completions");
    assert_eq!(
        r.headers.get("authorization").map(String::as_str),
        Some("Bearer sk-o")
    );
    assert_eq!(r.body["stream"], json!(true));
    assert_eq!(r.body["stream_options"], json!({"include_usage": true}));
    assert_eq!(
        r.body["messages"][0],
        json!({"role": "system", "content": "You write books."})
    );
    assert_eq!(r.body["max_tokens"], json!(300));
}

#[actix_web::test]
async fn length_is_max_tokens_and_no_key_sends_no_authorization() {
    let body = [
        chunk("Once", None),
        chunk(" upon", Some("length")),
        "data: [DONE]\n\n".to_string(),
    ];
    let server = spawn_canned(vec![Canned::sse(
        &body.iter().map(String::as_str).collect::<Vec<_>>(),
    )])
    .await;
    let o = run(&provider(&server.base, ""), request(2)).await;
    assert_eq!(o.text, "Once upon");
    assert_eq!(o.finished.map(|f| f.0), Some(StopReason::MaxTokens));
    assert!(!server.requests()[0].headers.contains_key("authorization"));
}

#[actix_web::test]
async fn errors_map_to_the_same_classes() {
    let mid_stream = [
        chunk("Hi", None),
        "data: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}\n\n".to_string(),
    ];
    let server = spawn_canned(vec![
        Canned::error(429, &[("retry-after", "2")], r#"{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}"#),
        Canned::error(429, &[], r#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}"#),
        Canned::error(401, &[], r#"{"error":{"message":"Incorrect API key","type":"invalid_request_error","code":"invalid_api_key"}}"#),
        Canned::error(404, &[], r#"{"error":"model \"nope\" not found, try pulling it first"}"#),
        Canned::error(503, &[], "Service Unavailable"),
        Canned::sse(&mid_stream.iter().map(String::as_str).collect::<Vec<_>>()),
        Canned::sse(&[chunk("cut", None).as_str()]),
    ])
    .await;
    let p = provider(&server.base, "k");
    let expect = [
        (
            true,
            LlmErrorKind::RateLimited,
            Some(Duration::from_secs(2)),
        ),
        (false, LlmErrorKind::SpendLimit, None),
        (false, LlmErrorKind::InvalidRequest, None),
        (false, LlmErrorKind::NotFound, None),
        (true, LlmErrorKind::Server, None),
        (true, LlmErrorKind::Server, None),
        (true, LlmErrorKind::StreamError, None),
    ];
    for (i, want) in expect.into_iter().enumerate() {
        let e = run(&p, request(100))
            .await
            .error
            .unwrap_or_else(|| panic!("answer {i}: no error"));
        assert_eq!(
            (e.is_temporary(), e.kind(), e.retry_after()),
            want,
            "answer {i}: {e}"
        );
    }
}
