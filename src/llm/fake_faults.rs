//! The faults the fake LLM server can inject (queued by `POST /_fake/script` or drawn by rate) and the
//! HTTP error answers of those that happen before the stream starts, shaped like the Anthropic API's.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// A fault to inject, queued by `POST /_fake/script` or drawn by the configured rates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "fault", rename_all = "snake_case")]
pub enum Fault {
    /// 429 `rate_limit_error` with `retry-after` (seconds) and, when given, `retry-after-ms`.
    RateLimit {
        retry_after_secs: Option<u64>,
        retry_after_ms: Option<u64>,
    },
    /// 429 `rate_limit_error` whose details say the monthly spend limit was reached.
    SpendLimit,
    /// 529 `overloaded_error`.
    Overloaded,
    /// 500 `api_error`.
    ServerError,
    /// 401 `authentication_error`.
    Unauthorized,
    /// Any status and error type, with an optional `x-should-retry` header.
    Http {
        status: u16,
        error_type: String,
        should_retry: Option<bool>,
    },
    /// The connection is cut after a third of the text.
    Reset,
    /// An `error` event (default `overloaded_error`) after a third of the text, after the 200.
    ErrorEvent { error_type: Option<String> },
    /// A data line that is not JSON after a third of the text.
    Malformed,
    /// Stops sending (keeps the connection open) after a third of the text.
    Stall,
    /// Stops with `stop_reason: max_tokens` at half the text.
    MaxTokens,
    /// A normal answer written one byte per chunk.
    OneByteChunks,
    /// A normal answer preceded by a thinking block (thinking and signature deltas).
    Thinking,
}

impl Fault {
    pub fn label(&self) -> &'static str {
        match self {
            Fault::RateLimit { .. } => "rate_limit",
            Fault::SpendLimit => "spend_limit",
            Fault::Overloaded => "overloaded",
            Fault::ServerError => "server_error",
            Fault::Unauthorized => "unauthorized",
            Fault::Http { .. } => "http",
            Fault::Reset => "reset",
            Fault::ErrorEvent { .. } => "error_event",
            Fault::Malformed => "malformed",
            Fault::Stall => "stall",
            Fault::MaxTokens => "max_tokens",
            Fault::OneByteChunks => "one_byte_chunks",
            Fault::Thinking => "thinking",
        }
    }
}

/// An error answer: status, extra headers, JSON body.
pub struct ErrorAnswer {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Value,
}

pub fn error_body(error_type: &str, message: &str) -> Value {
    json!({"type": "error", "error": {"type": error_type, "message": message}, "request_id": "req_fake"})
}

/// The HTTP error a fault answers with, or `None` for faults that happen inside a 200 stream.
pub fn error_answer(fault: &Fault, default_retry_secs: u64) -> Option<ErrorAnswer> {
    let (status, headers, body) = match fault {
        Fault::RateLimit {
            retry_after_secs,
            retry_after_ms,
        } => {
            let mut h = vec![(
                "retry-after",
                retry_after_secs.unwrap_or(default_retry_secs).to_string(),
            )];
            if let Some(ms) = retry_after_ms {
                h.push(("retry-after-ms", ms.to_string()));
            }
            (
                429,
                h,
                error_body(
                    "rate_limit_error",
                    "Number of request tokens has exceeded your per-minute rate limit",
                ),
            )
        }
        Fault::SpendLimit => {
            let mut b = error_body(
                "rate_limit_error",
                "You have reached your monthly spend limit",
            );
            b["error"]["details"] = json!({"error_code": "enforced_spend_limit_reached"});
            (429, vec![], b)
        }
        Fault::Overloaded => (529, vec![], error_body("overloaded_error", "Overloaded")),
        Fault::ServerError => (
            500,
            vec![],
            error_body("api_error", "Internal server error"),
        ),
        Fault::Unauthorized => (
            401,
            vec![],
            error_body("authentication_error", "invalid x-api-key"),
        ),
        Fault::Http {
            status,
            error_type,
            should_retry,
        } => {
            let h = should_retry
                .map(|s| vec![("x-should-retry", s.to_string())])
                .unwrap_or_default();
            (*status, h, error_body(error_type, "scripted error"))
        }
        _ => return None,
    };
    Some(ErrorAnswer {
        status,
        headers,
        body,
    })
}
