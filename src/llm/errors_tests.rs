//! Classification tests: every error shape in Anthropic's "Errors" page, spend limits, retry hints.

use super::*;

fn body(ty: &str, msg: &str) -> ErrorBody {
    ErrorBody {
        error_type: Some(ty.into()),
        code: None,
        message: msg.into(),
    }
}

#[test]
fn classes_follow_the_documented_table() {
    let h = RetryHints::default();
    let cases = [
        (429, "rate_limit_error", true, LlmErrorKind::RateLimited),
        (529, "overloaded_error", true, LlmErrorKind::Overloaded),
        (500, "api_error", true, LlmErrorKind::Server),
        (504, "timeout_error", true, LlmErrorKind::Timeout),
        (
            400,
            "invalid_request_error",
            false,
            LlmErrorKind::InvalidRequest,
        ),
        (
            401,
            "authentication_error",
            false,
            LlmErrorKind::Authentication,
        ),
        (403, "permission_error", false, LlmErrorKind::Permission),
        (404, "not_found_error", false, LlmErrorKind::NotFound),
        (413, "request_too_large", false, LlmErrorKind::TooLarge),
        (402, "billing_error", false, LlmErrorKind::SpendLimit),
    ];
    for (status, ty, temp, kind) in cases {
        let e = classify(Some(status), &body(ty, "m"), h);
        assert_eq!((e.is_temporary(), e.kind()), (temp, kind), "{status} {ty}");
    }
    for (status, kind) in [
        (408, LlmErrorKind::Timeout),
        (409, LlmErrorKind::Server),
        (502, LlmErrorKind::Server),
    ] {
        let e = classify(Some(status), &ErrorBody::default(), h);
        assert!(e.is_temporary(), "{status}");
        assert_eq!(e.kind(), kind);
    }
}

#[test]
fn spend_limit_429_is_permanent() {
    let raw = br#"{"type":"error","error":{"type":"rate_limit_error","message":"limit",
        "details":{"error_code":"enforced_spend_limit_reached"}}}"#;
    let e = classify(Some(429), &ErrorBody::parse(raw), RetryHints::default());
    assert_eq!(
        e,
        LlmError::permanent(LlmErrorKind::SpendLimit, "HTTP 429: limit")
    );
    let e = classify(
        Some(400),
        &body("invalid_request_error", "Your credit balance is too low"),
        RetryHints::default(),
    );
    assert_eq!(e.kind(), LlmErrorKind::SpendLimit);
}

#[test]
fn should_retry_header_overrides_the_class() {
    let hints = RetryHints {
        retry_after: None,
        should_retry: Some(false),
    };
    assert!(!classify(Some(529), &body("overloaded_error", ""), hints).is_temporary());
    let hints = RetryHints {
        retry_after: None,
        should_retry: Some(true),
    };
    assert!(classify(Some(400), &body("invalid_request_error", ""), hints).is_temporary());
}

#[test]
fn retry_after_ms_wins_over_seconds() {
    let mut h = awc::http::header::HeaderMap::new();
    h.insert(
        "retry-after".parse().expect("name"),
        "7".parse().expect("value"),
    );
    assert_eq!(
        RetryHints::from_headers(&h).retry_after,
        Some(Duration::from_secs(7))
    );
    h.insert(
        "retry-after-ms".parse().expect("name"),
        "1500".parse().expect("value"),
    );
    assert_eq!(
        RetryHints::from_headers(&h).retry_after,
        Some(Duration::from_millis(1500))
    );
}

/// The documented shape: `{"type":"error","error":{"type","message"},"request_id"}`.
fn documented(ty: &str, msg: &str) -> Vec<u8> {
    serde_json::json!({"type": "error", "error": {"type": ty, "message": msg}, "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy"})
        .to_string()
        .into_bytes()
}

#[test]
fn every_documented_error_shape_is_classified() {
    use LlmErrorKind as K;
    let h = RetryHints::default();
    // Status, error.type and whether retrying can help, as Anthropic's "Errors" page lists them.
    let table = [
        (400, "invalid_request_error", false, K::InvalidRequest),
        (401, "authentication_error", false, K::Authentication),
        (402, "billing_error", false, K::SpendLimit),
        (403, "permission_error", false, K::Permission),
        (404, "not_found_error", false, K::NotFound),
        (413, "request_too_large", false, K::TooLarge),
        (429, "rate_limit_error", true, K::RateLimited),
        (500, "api_error", true, K::Server),
        (504, "timeout_error", true, K::Timeout),
        (529, "overloaded_error", true, K::Overloaded),
    ];
    for (status, ty, temporary, kind) in table {
        let body = ErrorBody::parse(&documented(ty, "Something happened"));
        assert_eq!(body.error_type.as_deref(), Some(ty));
        let e = classify(Some(status), &body, h);
        assert_eq!(
            (e.is_temporary(), e.kind()),
            (temporary, kind),
            "{status} {ty}"
        );
        // The same type as an `error` event after the 200 is classified alike.
        let e = classify(None, &body, h);
        assert_eq!(
            (e.is_temporary(), e.kind()),
            (temporary, kind),
            "event {ty}"
        );
    }
    // "type values may grow over time": an unknown type falls back to the status.
    let body = ErrorBody::parse(&documented("brand_new_error", "x"));
    assert!(classify(Some(503), &body, h).is_temporary());
    assert_eq!(classify(Some(422), &body, h).kind(), K::InvalidRequest);
    // 413 comes from Cloudflare before the API: an HTML body, the status decides.
    let e = classify(
        Some(413),
        &ErrorBody::parse(b"<html>413 Request Entity Too Large</html>"),
        h,
    );
    assert_eq!((e.is_temporary(), e.kind()), (false, K::TooLarge));
}

#[test]
fn spend_limit_messages_are_permanent_whatever_the_status() {
    let h = RetryHints::default();
    for (status, ty, msg) in [
        (
            429,
            "rate_limit_error",
            "You have reached your specified API usage limits. You will regain access on 2026-12-01 at 00:00 UTC.",
        ),
        (
            400,
            "invalid_request_error",
            "You have reached your specified API usage limits. You will regain access on 2026-12-01 at 00:00 UTC.",
        ),
        (
            400,
            "invalid_request_error",
            "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.",
        ),
        (429, "rate_limit_error", "You have reached your monthly spend limit"),
        (402, "billing_error", "Billing issue"),
    ] {
        let e = classify(Some(status), &ErrorBody::parse(&documented(ty, msg)), h);
        assert_eq!(
            (e.is_temporary(), e.kind()),
            (false, LlmErrorKind::SpendLimit),
            "{status} {msg}"
        );
    }
    // A proxy that says "retry" cannot lift a spend cap.
    let retry = RetryHints {
        retry_after: Some(Duration::from_secs(60)),
        should_retry: Some(true),
    };
    let body = ErrorBody::parse(&documented(
        "rate_limit_error",
        "You have reached your specified API usage limits.",
    ));
    assert!(!classify(Some(429), &body, retry).is_temporary());
    // An ordinary rate limit stays temporary.
    let body = ErrorBody::parse(&documented(
        "rate_limit_error",
        "This request would exceed the rate limit for your organization of 50,000 input tokens per minute. You can see the response headers for current usage.",
    ));
    assert!(classify(Some(429), &body, h).is_temporary());
}

#[test]
fn retry_after_may_be_an_http_date() {
    let now = httpdate::parse_http_date("Fri, 27 Nov 2026 12:00:00 GMT").expect("date");
    let mut h = awc::http::header::HeaderMap::new();
    h.insert(
        "retry-after".parse().expect("name"),
        "Fri, 27 Nov 2026 12:00:05 GMT".parse().expect("value"),
    );
    assert_eq!(
        RetryHints::from_headers_at(&h, now).retry_after,
        Some(Duration::from_secs(5))
    );
    // A date already past means "now", not "ignore".
    h.insert(
        "retry-after".parse().expect("name"),
        "Fri, 27 Nov 2026 11:59:00 GMT".parse().expect("value"),
    );
    assert_eq!(
        RetryHints::from_headers_at(&h, now).retry_after,
        Some(Duration::ZERO)
    );
    h.insert(
        "retry-after".parse().expect("name"),
        "soon".parse().expect("value"),
    );
    assert_eq!(RetryHints::from_headers_at(&h, now).retry_after, None);
}
