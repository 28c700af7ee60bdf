//! The Anthropic client against canned byte streams: headers and body sent, thinking, CRLF framing,
//! several events per write, errors without a JSON body, a stream cut before `message_stop`.

use std::time::Duration;

use buko_actors::{LlmErrorKind, StopReason, Usage};
use serde_json::json;

use super::canned::{spawn_canned, Canned};
use super::helpers::{anthropic, request, run};

const THINKING_STREAM: &[&str] = &[
    "event: message_start\r\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"usage\":{\"input_tokens\":21,\"output_tokens\":1}}}\r\n\r\n",
    "event: content_block_start\r\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}}\r\n\r\nevent: content_block_delta\r\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"secret plan\"}}\r\n\r\n",
    "event: content_block_delta\r\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"signature_delta\",\"signature\":\"abc\"}}\r\n\r\nevent: content_block_stop\r\ndata: {\"type\":\"content_block_stop\",\"index\":0}\r\n\r\n",
    "event: content_block_start\r\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\r\n\r\nevent: ping\r\ndata: {\"type\": \"ping\"}\r\n\r\n",
    "event: content_block_delta\r\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\"¿Dónde está \"}}\r\n\r\nevent: content_block_delta\r\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\"la carta?\"}}\r",
    "\n\r\nevent: future_event\r\ndata: {\"type\":\"future_event\"}\r\n\r\nevent: content_block_stop\r\ndata: {\"type\":\"content_block_stop\",\"index\":1}\r\n\r\n",
    "event: message_delta\r\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":57}}\r\n\r\nevent: message_stop\r\ndata: {\"type\":\"message_stop\"}\r\n\r\n",
];

#[actix_web::test]
async fn thinking_stream_sends_protocol_headers_and_yields_only_text() {
    let mut ok = Canned::sse(THINKING_STREAM);
    ok.headers.push(("request-id", "req_011".into()));
    ok.headers
        .push(("anthropic-ratelimit-requests-remaining", "49".into()));
    let server = spawn_canned(vec![ok]).await;
    let o = run(
        &anthropic(&server.base, "sk-test", Some(2048), 2000),
        request(1000),
    )
    .await;
    assert_eq!(o.text, "¿Dónde está la carta?");
    assert_eq!(
        o.finished,
        Some((
            StopReason::EndTurn,
            Usage::new(21, 57),
            Some("req_011".into())
        ))
    );
    let seen = server.requests();
    assert_eq!(seen.len(), 1);
    let r = &seen[0];
    assert_eq!(r.path, "/v1/messages");
    assert_eq!(
        r.headers.get("x-api-key").map(String::as_str),
        Some("sk-test")
    );
    assert_eq!(
        r.headers.get("anthropic-version").map(String::as_str),
        Some("2023-06-01")
    );
    assert!(r
        .headers
        .get("content-type")
        .is_some_and(|c| c.starts_with("application/json")));
    assert_eq!(r.body["stream"], json!(true));
    assert_eq!(r.body["system"], json!("You write books."));
    assert_eq!(
        r.body["thinking"],
        json!({"type": "enabled", "budget_tokens": 2048})
    );
    assert_eq!(r.body["max_tokens"], json!(3048));
    assert!(r.body.get("temperature").is_none());
}

#[actix_web::test]
async fn errors_without_json_body_use_status_and_headers() {
    let server = spawn_canned(vec![
        Canned::error(408, &[], "timeout"),
        Canned::error(409, &[], ""),
        Canned::error(503, &[("retry-after", "4")], "<html>bad gateway</html>"),
        Canned::error(429, &[("retry-after-ms", "250")], r#"{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}"#),
        Canned::error(404, &[], r#"{"type":"error","error":{"type":"not_found_error","message":"model"}}"#),
        Canned::error(403, &[], r#"{"type":"error","error":{"type":"permission_error","message":"no"}}"#),
        Canned::error(400, &[], r#"{"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low to access the Anthropic API."}}"#),
    ])
    .await;
    let p = anthropic(&server.base, "k", None, 2000);
    let expect = [
        (true, LlmErrorKind::Timeout, None),
        (true, LlmErrorKind::Server, None),
        (true, LlmErrorKind::Server, Some(Duration::from_secs(4))),
        (
            true,
            LlmErrorKind::RateLimited,
            Some(Duration::from_millis(250)),
        ),
        (false, LlmErrorKind::NotFound, None),
        (false, LlmErrorKind::Permission, None),
        (false, LlmErrorKind::SpendLimit, None),
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

#[actix_web::test]
async fn stream_cut_before_message_stop_is_temporary() {
    let server = spawn_canned(vec![Canned::sse(&THINKING_STREAM[..6])]).await;
    let o = run(&anthropic(&server.base, "k", None, 2000), request(100)).await;
    assert_eq!(o.text, "¿Dónde está la carta?");
    let e = o.error.expect("error");
    assert!(e.is_temporary());
    assert_eq!(e.kind(), LlmErrorKind::StreamError);
}

#[actix_web::test]
async fn connection_refused_is_temporary() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let o = run(
        &anthropic(&format!("http://127.0.0.1:{port}"), "k", None, 2000),
        request(100),
    )
    .await;
    let e = o.error.expect("error");
    assert!(e.is_temporary(), "{e}");
    assert_eq!(e.kind(), LlmErrorKind::Connection);
}
