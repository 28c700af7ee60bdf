//! Maps provider failures to the engine's two error classes (`LlmError::Temporary` / `Permanent`).
//!
//! Policy: the error body's `error.type` decides first, the HTTP status second (for bodies without a
//! known type), and the provider's `x-should-retry: true|false` header overrides both. A 429 is a rate
//! limit (retry after `retry-after-ms` / `retry-after`) unless it says a spend limit or credit balance was
//! reached: retrying cannot help then, so it is permanent (whatever `x-should-retry` says: a spend cap
//! does not lift within a retry window). The same mapping serves HTTP errors and `error` events that
//! arrive after a 200. `retry-after` may be seconds or an HTTP date (RFC 9110 §10.2.3).

use std::time::Duration;

use buko_actors::{LlmError, LlmErrorKind};

/// What the response headers say about retrying.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RetryHints {
    pub retry_after: Option<Duration>,
    pub should_retry: Option<bool>,
}

impl RetryHints {
    /// Reads `retry-after-ms` (preferred: more precise), `retry-after` (seconds or an HTTP date) and
    /// `x-should-retry`.
    pub fn from_headers(headers: &awc::http::header::HeaderMap) -> Self {
        Self::from_headers_at(headers, std::time::SystemTime::now())
    }

    /// As [`RetryHints::from_headers`], with the current time given (an HTTP date is relative to it).
    pub fn from_headers_at(
        headers: &awc::http::header::HeaderMap,
        now: std::time::SystemTime,
    ) -> Self {
        let get = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
        };
        let ms = get("retry-after-ms")
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|v| v.is_finite() && *v >= 0.0)
            .map(|v| Duration::from_secs_f64(v / 1000.0));
        let secs = get("retry-after").and_then(|v| retry_after_value(v, now));
        let should_retry = match get("x-should-retry") {
            Some("true") => Some(true),
            Some("false") => Some(false),
            _ => None,
        };
        RetryHints {
            retry_after: ms.or(secs),
            should_retry,
        }
    }
}

/// `retry-after` as delay-seconds or an HTTP date; a date in the past means "now".
fn retry_after_value(v: &str, now: std::time::SystemTime) -> Option<Duration> {
    if let Ok(secs) = v.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The parts of an error body that matter, whichever provider wrote it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ErrorBody {
    pub error_type: Option<String>,
    pub code: Option<String>,
    pub message: String,
}

impl ErrorBody {
    /// Parses `{"type":"error","error":{"type","message","details":{"error_code"}}}` (Anthropic),
    /// `{"error":{"message","type","code"}}` (OpenAI) or `{"error":"text"}` (Ollama); else the raw text.
    pub fn parse(raw: &[u8]) -> Self {
        let text = String::from_utf8_lossy(raw);
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(raw) else {
            return ErrorBody {
                message: truncate(text.trim(), 300),
                ..Default::default()
            };
        };
        Self::from_value(&v).unwrap_or_else(|| ErrorBody {
            message: truncate(text.trim(), 300),
            ..Default::default()
        })
    }

    pub fn from_value(v: &serde_json::Value) -> Option<Self> {
        let err = v.get("error")?;
        if let Some(s) = err.as_str() {
            return Some(ErrorBody {
                message: truncate(s, 300),
                ..Default::default()
            });
        }
        let s = |x: Option<&serde_json::Value>| x.and_then(|x| x.as_str()).map(str::to_string);
        let code = s(err.pointer("/details/error_code")).or_else(|| s(err.get("code")));
        Some(ErrorBody {
            error_type: s(err.get("type")),
            code,
            message: truncate(&s(err.get("message")).unwrap_or_default(), 300),
        })
    }

    /// A spend cap, an exhausted credit balance or a billing problem: the documented messages are
    /// "You have reached your specified API usage limits. You will regain access on …" (the
    /// console's spend limit), "…monthly spend limit…" and "Your credit balance is too low to access
    /// the Anthropic API…"; OpenAI-compatible servers say `insufficient_quota`.
    fn says_spend_limit(&self) -> bool {
        let code = self.code.as_deref().unwrap_or("");
        let ty = self.error_type.as_deref().unwrap_or("");
        let msg = self.message.to_ascii_lowercase();
        code.contains("spend_limit")
            || code == "insufficient_quota"
            || ty == "insufficient_quota"
            || ty == "billing_error"
            || msg.contains("spend limit")
            || msg.contains("usage limit")
            || msg.contains("regain access")
            || msg.contains("credit balance")
            || msg.contains("billing")
            || msg.contains("quota")
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max).collect();
        t.push('…');
        t
    }
}

/// Classifies an error from its HTTP status (None for a mid-stream `error` event), body and headers.
pub fn classify(status: Option<u16>, body: &ErrorBody, hints: RetryHints) -> LlmError {
    use LlmErrorKind as K;
    let by_type = match body.error_type.as_deref() {
        Some("rate_limit_error")
        | Some("rate_limit_exceeded")
        | Some("requests")
        | Some("tokens") => Some(K::RateLimited),
        Some("overloaded_error") => Some(K::Overloaded),
        Some("api_error") | Some("server_error") => Some(K::Server),
        Some("timeout_error") => Some(K::Timeout),
        Some("authentication_error") => Some(K::Authentication),
        Some("permission_error") => Some(K::Permission),
        Some("not_found_error") => Some(K::NotFound),
        Some("request_too_large") => Some(K::TooLarge),
        Some("billing_error") | Some("insufficient_quota") => Some(K::SpendLimit),
        Some("invalid_request_error") => Some(K::InvalidRequest),
        _ => None,
    };
    let by_status = status.map(|s| match s {
        408 => K::Timeout,
        409 => K::Server,
        429 => K::RateLimited,
        529 => K::Overloaded,
        401 => K::Authentication,
        402 => K::SpendLimit,
        403 => K::Permission,
        404 => K::NotFound,
        413 => K::TooLarge,
        500..=599 => K::Server,
        _ => K::InvalidRequest,
    });
    let mut kind = by_type.or(by_status).unwrap_or(K::StreamError);
    if matches!(kind, K::RateLimited | K::InvalidRequest | K::Permission) && body.says_spend_limit()
    {
        kind = K::SpendLimit;
    }
    let mut temporary = matches!(
        kind,
        K::RateLimited
            | K::Overloaded
            | K::Server
            | K::Timeout
            | K::Stalled
            | K::Connection
            | K::StreamError
    ) || (status == Some(409));
    if let (Some(should), false) = (hints.should_retry, kind == K::SpendLimit) {
        temporary = should;
    }
    let message = match (status, body.message.is_empty()) {
        (Some(s), true) => format!("HTTP {s}"),
        (Some(s), false) => format!("HTTP {s}: {}", body.message),
        (None, true) => "error event in stream".to_string(),
        (None, false) => body.message.clone(),
    };
    if temporary {
        LlmError::Temporary {
            kind,
            message,
            retry_after: hints.retry_after,
        }
    } else {
        LlmError::Permanent { kind, message }
    }
}

#[cfg(test)]
#[path = "errors_tests.rs"]
mod tests;
