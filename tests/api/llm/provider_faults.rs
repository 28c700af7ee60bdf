//! Provider answers that used to be misread (issue 20): a close-delimited HTTP/1.1 body, `retry-after`
//! as an HTTP date, the console's spend-limit message, and the usage of a stream that broke.

use std::time::{Duration, SystemTime};

use buko_actors::{LlmErrorKind, Usage};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::canned::{spawn_canned, Canned};
use super::helpers::{anthropic, request, run};

const STREAM: &str = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":9,\"output_tokens\":1}}}\n\n\
event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello\"}}\n\n\
event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":2}}\n\n\
event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

/// A raw HTTP/1.1 server that answers once with a body delimited by closing the connection.
async fn close_delimited_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    actix_web::rt::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = vec![0u8; 64 * 1024];
            let mut seen = Vec::new();
            // Read the request head and its JSON body (Content-Length) before answering.
            loop {
                let n = sock.read(&mut buf).await.unwrap_or(0);
                if n == 0 {
                    break;
                }
                seen.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&seen).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len = text[..end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if seen.len() >= end + 4 + len {
                        break;
                    }
                }
            }
            let head =
                "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n";
            let _ = sock.write_all(head.as_bytes()).await;
            let _ = sock.write_all(STREAM.as_bytes()).await;
            let _ = sock.shutdown().await;
        }
    });
    format!("http://{addr}")
}

/// Before: awc read the body as empty and every call failed as a temporary "stream ended before
/// message_stop", retried forever. Now the answer is refused once, permanently, saying why.
#[actix_web::test]
async fn close_delimited_body_is_refused_with_a_clear_error() {
    let base = close_delimited_server().await;
    let o = run(&anthropic(&base, "k", None, 2000), request(100)).await;
    let e = o.error.expect("an error");
    assert!(!e.is_temporary(), "{e}");
    assert_eq!(e.kind(), LlmErrorKind::Malformed);
    assert!(e.to_string().contains("Content-Length"), "{e}");
    assert!(e.to_string().contains("chunked"), "{e}");
}

/// Before: an HTTP-date `retry-after` was ignored (the retry came after the jittered backoff).
#[actix_web::test]
async fn retry_after_http_date_is_honoured() {
    let at = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(6));
    let server = spawn_canned(vec![Canned::error(
        429,
        &[("retry-after", &at)],
        r#"{"type":"error","error":{"type":"rate_limit_error","message":"slow down"},"request_id":"req_1"}"#,
    )])
    .await;
    let e = run(&anthropic(&server.base, "k", None, 2000), request(100))
        .await
        .error
        .expect("error");
    let wait = e.retry_after().expect("a retry-after");
    // Whole seconds in the date, and the request took a moment: between 4 and 6 s.
    assert!(
        wait >= Duration::from_secs(4) && wait <= Duration::from_secs(6),
        "{wait:?}"
    );
}

/// Before: the console's spend cap ("usage limits") was a rate limit, retried for minutes.
#[actix_web::test]
async fn usage_limit_answer_is_a_permanent_spend_limit() {
    let server = spawn_canned(vec![Canned::error(
        429,
        &[("retry-after", "30"), ("x-should-retry", "true")],
        r#"{"type":"error","error":{"type":"rate_limit_error","message":"You have reached your specified API usage limits. You will regain access on 2026-12-01 at 00:00 UTC."},"request_id":"req_2"}"#,
    )])
    .await;
    let e = run(&anthropic(&server.base, "k", None, 2000), request(100))
        .await
        .error
        .expect("error");
    assert_eq!(
        (e.is_temporary(), e.kind()),
        (false, LlmErrorKind::SpendLimit)
    );
}

/// Before: a stream that broke after `message_start` reported no usage at all.
#[actix_web::test]
async fn broken_stream_still_reports_its_input_usage() {
    let server = spawn_canned(vec![Canned::sse(&[
        &STREAM[..STREAM.find("event: message_delta").expect("delta")]
    ])])
    .await;
    let o = run(&anthropic(&server.base, "k", None, 2000), request(100)).await;
    assert!(o.error.is_some_and(|e| e.is_temporary()));
    assert_eq!(o.text, "Hello");
    assert_eq!(o.reported, Some(Usage::new(9, 1)));
}
