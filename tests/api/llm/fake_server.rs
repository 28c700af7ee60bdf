//! The Anthropic client against the fake server, end to end, for each injected fault.

use std::time::{Duration, Instant};

use buko_actors::{LlmErrorKind, StopReason};
use serde_json::json;

use super::helpers::{anthropic, request, run, script, spawn_fake, stats};

#[actix_web::test]
async fn normal_stream_yields_text_usage_and_request_id() {
    let base = spawn_fake(|_| {}).await;
    let o = run(&anthropic(&base, "k", None, 2000), request(4000)).await;
    assert!(o.error.is_none(), "{:?}", o.error);
    let (stop, usage, request_id) = o.finished.clone().expect("finished");
    assert_eq!(stop, StopReason::EndTurn);
    assert_eq!(request_id.as_deref(), Some("req_fake_stream"));
    assert!(
        usage.input_tokens > 0 && usage.output_tokens > 100,
        "{usage:?}"
    );
    assert!(o.text.split_whitespace().count() >= 300, "{}", o.text);
    assert!(o.deltas > 10);
    assert_eq!(o.after_end, 0);
}

#[actix_web::test]
async fn same_request_same_text_thinking_excluded_and_one_byte_chunks_reassembled() {
    let base = spawn_fake(|_| {}).await;
    let p = anthropic(&base, "k", None, 2000);
    let baseline = run(&p, request(4000)).await.text;
    script(
        &base,
        json!([{"fault": "thinking"}, {"fault": "one_byte_chunks"}]),
    )
    .await;
    let thinking = run(&p, request(4000)).await;
    assert_eq!(thinking.text, baseline, "thinking leaked into the text");
    assert!(!thinking.text.contains("Let me plan"));
    let bytes = run(&p, request(4000)).await;
    assert!(bytes.finished.is_some(), "{:?}", bytes.error);
    assert_eq!(bytes.text, baseline);
}

async fn fault(base: &str, f: serde_json::Value, stall_ms: u64) -> super::helpers::Outcome {
    script(base, f).await;
    run(&anthropic(base, "k", None, stall_ms), request(4000)).await
}

#[actix_web::test]
async fn http_faults_map_to_classes_and_retry_delays() {
    let base = spawn_fake(|o| o.retry_after_secs = 3).await;
    let cases = [
        (
            json!({"fault": "rate_limit"}),
            true,
            LlmErrorKind::RateLimited,
            Some(Duration::from_secs(3)),
        ),
        (
            json!({"fault": "rate_limit", "retry_after_secs": 2, "retry_after_ms": 1500}),
            true,
            LlmErrorKind::RateLimited,
            Some(Duration::from_millis(1500)),
        ),
        (
            json!({"fault": "overloaded"}),
            true,
            LlmErrorKind::Overloaded,
            None,
        ),
        (
            json!({"fault": "server_error"}),
            true,
            LlmErrorKind::Server,
            None,
        ),
        (
            json!({"fault": "spend_limit"}),
            false,
            LlmErrorKind::SpendLimit,
            None,
        ),
        (
            json!({"fault": "unauthorized"}),
            false,
            LlmErrorKind::Authentication,
            None,
        ),
        (
            json!({"fault": "http", "status": 400, "error_type": "invalid_request_error", "should_retry": true}),
            true,
            LlmErrorKind::InvalidRequest,
            None,
        ),
        (
            json!({"fault": "http", "status": 529, "error_type": "overloaded_error", "should_retry": false}),
            false,
            LlmErrorKind::Overloaded,
            None,
        ),
        (
            json!({"fault": "http", "status": 413, "error_type": "request_too_large"}),
            false,
            LlmErrorKind::TooLarge,
            None,
        ),
    ];
    for (f, temporary, kind, retry_after) in cases {
        let o = fault(&base, f.clone(), 2000).await;
        let e = o.error.unwrap_or_else(|| panic!("{f}: no error"));
        assert_eq!(
            (e.is_temporary(), e.kind(), e.retry_after()),
            (temporary, kind, retry_after),
            "{f}: {e}"
        );
        assert!(o.text.is_empty() && o.finished.is_none());
    }
}

#[actix_web::test]
async fn stream_faults_map_to_temporary_errors_after_partial_text() {
    let base = spawn_fake(|_| {}).await;
    let cases = [
        // actix drops the connection without the last chunk; awc reports that as the end of the body
        // (seen on the wire: no `0\r\n\r\n`), so the client sees a stream without `message_stop`.
        (json!({"fault": "reset"}), LlmErrorKind::StreamError),
        (json!({"fault": "error_event"}), LlmErrorKind::Overloaded),
        (
            json!({"fault": "error_event", "error_type": "api_error"}),
            LlmErrorKind::Server,
        ),
        (json!({"fault": "malformed"}), LlmErrorKind::Malformed),
        (json!({"fault": "stall"}), LlmErrorKind::Stalled),
    ];
    for (f, kind) in cases {
        let started = Instant::now();
        let o = fault(&base, f.clone(), 400).await;
        let e = o.error.unwrap_or_else(|| panic!("{f}: no error"));
        assert!(e.is_temporary(), "{f}: {e}");
        let reset_kinds = [LlmErrorKind::StreamError, LlmErrorKind::Connection];
        assert!(
            e.kind() == kind
                || (kind == LlmErrorKind::StreamError && reset_kinds.contains(&e.kind())),
            "{f}: {e}"
        );
        assert!(
            !o.text.is_empty(),
            "{f}: the fault should come after some text"
        );
        assert!(o.finished.is_none() && o.after_end == 0);
        assert!(started.elapsed() < Duration::from_secs(3), "{f}");
    }
}

#[actix_web::test]
async fn max_tokens_stop_is_reported_and_bounded() {
    let base = spawn_fake(|_| {}).await;
    let o = fault(&base, json!({"fault": "max_tokens"}), 2000).await;
    assert_eq!(
        o.finished.as_ref().map(|f| f.0.clone()),
        Some(StopReason::MaxTokens)
    );
    let small = run(&anthropic(&base, "k", None, 2000), request(50)).await;
    let (stop, usage, _) = small.finished.expect("finished");
    assert_eq!(stop, StopReason::MaxTokens);
    assert!(usage.output_tokens <= 50, "{usage:?}");
}

#[actix_web::test]
async fn missing_key_fails_fast_as_permanent() {
    let base = spawn_fake(|_| {}).await;
    let started = Instant::now();
    let o = run(&anthropic(&base, "", None, 2000), request(100)).await;
    let e = o.error.expect("error");
    assert!(!e.is_temporary());
    assert_eq!(e.kind(), LlmErrorKind::Authentication);
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(stats(&base).await["outcomes"]["unauthorized"], json!(1));
}

#[actix_web::test]
async fn rates_inject_faults_and_stats_count_outcomes() {
    let base = spawn_fake(|o| o.fault_rate_529 = 1.0).await;
    let o = run(&anthropic(&base, "k", None, 2000), request(100)).await;
    assert_eq!(o.error.map(|e| e.kind()), Some(LlmErrorKind::Overloaded));
    script(&base, json!({"fault": "thinking"})).await;
    let o = run(&anthropic(&base, "k", None, 2000), request(100)).await;
    assert!(
        o.finished.is_some(),
        "a scripted fault takes precedence over rates"
    );
    let s = stats(&base).await;
    assert_eq!(s["requests"], json!(2));
    assert_eq!(s["outcomes"]["overloaded"], json!(1));
    assert_eq!(s["outcomes"]["thinking"], json!(1));
}

#[actix_web::test]
async fn prefill_continues_without_repeating() {
    let base = spawn_fake(|_| {}).await;
    let p = anthropic(&base, "k", None, 2000);
    let full = run(&p, request(4000)).await.text;
    let head: String = full.split_inclusive(' ').take(40).collect();
    let mut req = request(4000);
    req.messages.push(buko_actors::Message {
        role: buko_actors::Role::Assistant,
        content: head.clone(),
    });
    let rest = run(&p, req).await.text;
    assert_eq!(
        format!("{}{}", head.trim_end(), rest)
            .split_whitespace()
            .collect::<Vec<_>>(),
        full.split_whitespace().collect::<Vec<_>>()
    );
}

#[actix_web::test]
async fn one_byte_chunks_arrive_as_many_reads() {
    use futures_util::StreamExt;
    let base = spawn_fake(|_| {}).await;
    script(&base, json!({"fault": "one_byte_chunks"})).await;
    let body = json!({"model": "m", "max_tokens": 60, "messages": [{"role": "user", "content": "hi"}], "stream": true});
    let mut r = awc::Client::new()
        .post(format!("{base}/v1/messages"))
        .insert_header(("x-api-key", "k"))
        .insert_header(("anthropic-version", "2023-06-01"))
        .send_json(&body)
        .await
        .expect("send");
    let (mut reads, mut bytes) = (0usize, 0usize);
    while let Some(chunk) = r.next().await {
        reads += 1;
        bytes += chunk.expect("chunk").len();
    }
    assert!(bytes > 500, "{bytes} bytes");
    // Writes of one byte may be coalesced a little by the kernel, but most must arrive apart.
    assert!(reads * 2 > bytes, "{reads} reads for {bytes} bytes");
}
