//! The HTTP plumbing shared by the payment adapters: one awc client per thread (awc is not `Send`)
//! with a whole-request timeout, and the mapping of answers to `PaymentError` (429 / 5xx / transport
//! are temporary; 404 is `NotFound`; other 4xx are the provider refusing). Provider error bodies are
//! kept short in messages and never include our credentials.

use std::cell::RefCell;
use std::time::Duration;

use serde_json::Value;

use super::PaymentError;

/// Every provider call, from connecting to the last byte of the answer.
pub const TIMEOUT: Duration = Duration::from_secs(10);

thread_local! {
    static CLIENT: RefCell<Option<awc::Client>> = const { RefCell::new(None) };
}

/// This thread's client.
pub fn client() -> awc::Client {
    crate::llm::init_tls();
    CLIENT.with(|c| {
        c.borrow_mut()
            .get_or_insert_with(|| {
                awc::Client::builder()
                    .timeout(TIMEOUT)
                    .connector(awc::Connector::new().timeout(Duration::from_secs(5)))
                    .finish()
            })
            .clone()
    })
}

/// What a request's body is.
pub enum Body<'a> {
    None,
    Json(&'a Value),
    Form(&'a [(&'a str, &'a str)]),
}

/// Sends the request; `Ok` carries the status (2xx only) and the JSON answer (`Null` when empty).
pub async fn send(req: awc::ClientRequest, body: Body<'_>) -> Result<(u16, Value), PaymentError> {
    let req = req.insert_header(("accept", "application/json"));
    let sent = match body {
        Body::None => req.send().await,
        Body::Json(v) => req.send_json(v).await,
        Body::Form(f) => req.send_form(&f).await,
    };
    let mut res = sent.map_err(|e| PaymentError::Unavailable(format!("request failed: {e}")))?;
    let status = res.status().as_u16();
    let bytes = res
        .body()
        .limit(1024 * 1024)
        .await
        .map_err(|e| PaymentError::Unavailable(format!("reading the answer: {e}")))?;
    let json: Value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    };
    match status {
        200..=299 => Ok((status, json)),
        404 => Err(PaymentError::NotFound),
        408 | 425 | 429 | 500..=599 => Err(PaymentError::Unavailable(format!(
            "HTTP {status}: {}",
            short(&json)
        ))),
        _ => Err(PaymentError::Rejected {
            status,
            message: short(&json),
        }),
    }
}

/// The provider's error name and message, bounded.
fn short(json: &Value) -> String {
    let pick = |k: &str| json.get(k).and_then(Value::as_str).unwrap_or("");
    let mut s = format!(
        "{} {}",
        pick("name").to_owned() + pick("error"),
        pick("message")
    );
    s.truncate(200);
    s.trim().to_string()
}
