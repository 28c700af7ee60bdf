//! The input boundary every request crosses before a handler sees it, the same on both backends:
//!
//! - a path with a control character (`%00`, `%0A`…) or an `{id}` segment that is not a UUID is `404`
//!   before any query runs (ids are UUIDs; PostgreSQL refuses NUL in text, SQLite would store it);
//! - a query parameter or a form / JSON body field holding NUL or another control character is `400`
//!   naming the field. Tab, newline and carriage return are allowed in prose (an idea, a chapter's
//!   text), not in one-line fields such as an e-mail, a name or a title.
//!
//! Bodies are read here (within the same limits as the extractors) and handed on unchanged.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::Next;
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use serde_json::Value;

use crate::error::AppError;

/// Largest body inspected (the JSON extractor's limit; forms are smaller).
const MAX_BODY: usize = 1024 * 1024;

/// Redirect targets: `web::safe_next` turns any unacceptable one into `/books`, which is kinder than a
/// 400 for a link that was tampered with (and the value is never stored).
const LEFT_TO_SAFE_NEXT: &str = "next";

/// Fields that hold one line: tab and newline are refused there too.
const SINGLE_LINE: &[&str] = &[
    "email",
    "name",
    "title",
    "subtitle",
    "lang",
    "language",
    "csrf_token",
    "q",
    "genre",
    "audience",
    "tone",
    "plan",
    "role",
    "api_key",
    "book_id",
];

pub async fn check_input(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if let Err(e) = check_path(&req) {
        return Ok(req.error_response(e).map_into_right_body());
    }
    if let Err(e) = check_query(req.query_string()) {
        return Ok(req.error_response(e).map_into_right_body());
    }
    if let Some(kind) = body_kind(&req) {
        let mut payload = actix_web::HttpMessage::take_payload(&mut req);
        let mut body = BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk?;
            if body.len() + chunk.len() > MAX_BODY {
                return Ok(req.error_response(AppError::TooLarge).map_into_right_body());
            }
            body.extend_from_slice(&chunk);
        }
        let body = body.freeze();
        if let Err(e) = check_body(kind, &body) {
            return Ok(req.error_response(e).map_into_right_body());
        }
        req.set_payload(Payload::from(body));
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

#[derive(Clone, Copy)]
enum BodyKind {
    Form,
    Json,
}

fn body_kind(req: &ServiceRequest) -> Option<BodyKind> {
    if !matches!(
        *req.method(),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    ) {
        return None;
    }
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)?
        .to_str()
        .ok()?
        .to_ascii_lowercase();
    if ct.starts_with("application/x-www-form-urlencoded") {
        Some(BodyKind::Form)
    } else if ct.starts_with("application/json") || ct.contains("+json") {
        Some(BodyKind::Json)
    } else {
        None
    }
}

fn check_path(req: &ServiceRequest) -> Result<(), AppError> {
    let raw = req.path();
    if percent_decode(raw.as_bytes())
        .iter()
        .any(|b| *b < 0x20 || *b == 0x7f)
    {
        return Err(AppError::NotFound);
    }
    let Some(pattern) = crate::web::route::pattern(req) else {
        return Ok(());
    };
    let segments: Vec<&str> = raw.split('/').collect();
    for (i, p) in pattern.split('/').enumerate() {
        if p == "{id}" {
            let ok = segments
                .get(i)
                .is_some_and(|s| uuid::Uuid::parse_str(s).is_ok());
            if !ok {
                return Err(AppError::NotFound);
            }
        }
    }
    Ok(())
}

fn check_query(query: &str) -> Result<(), AppError> {
    if query.is_empty() {
        return Ok(());
    }
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        check_field(&k, &k)?;
        check_field(&k, &v)?;
    }
    Ok(())
}

fn check_body(kind: BodyKind, body: &Bytes) -> Result<(), AppError> {
    match kind {
        BodyKind::Form => {
            for (k, v) in url::form_urlencoded::parse(body) {
                check_field(&k, &k)?;
                check_field(&k, &v)?;
            }
            Ok(())
        }
        // Malformed JSON is left to the extractor, which answers 400 with its own message.
        BodyKind::Json => match serde_json::from_slice::<Value>(body) {
            Ok(v) => check_json("", &v),
            Err(_) => Ok(()),
        },
    }
}

fn check_json(path: &str, v: &Value) -> Result<(), AppError> {
    match v {
        Value::String(s) => check_field(path, s),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, item)| check_json(&format!("{path}[{i}]"), item)),
        Value::Object(map) => map.iter().try_for_each(|(k, item)| {
            let field = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            check_field(&field, k)?;
            check_json(&field, item)
        }),
        _ => Ok(()),
    }
}

/// Refuses control characters in `value`; `field` names it (its last component picks the rule).
fn check_field(field: &str, value: &str) -> Result<(), AppError> {
    let last = field
        .rsplit(['.', '['])
        .next()
        .unwrap_or(field)
        .trim_end_matches(']');
    if last == LEFT_TO_SAFE_NEXT {
        return Ok(());
    }
    let single_line = SINGLE_LINE.contains(&last);
    let bad = value
        .chars()
        .any(|c| c.is_control() && (single_line || !matches!(c, '\t' | '\n' | '\r')));
    if !bad {
        return Ok(());
    }
    let shown: String = field
        .chars()
        .filter(|c| !c.is_control())
        .take(100)
        .collect();
    let shown = if shown.is_empty() {
        "(unnamed)".into()
    } else {
        shown
    };
    Err(AppError::BadRequest(format!(
        "the field `{shown}` contains a control character"
    )))
}

fn percent_decode(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        if input[i] == b'%' && i + 2 < input.len() {
            let hex = std::str::from_utf8(&input[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(input[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields() {
        assert!(check_field("idea", "line one\nline two\tend").is_ok());
        assert!(check_field("idea", "nul\u{0}here").is_err());
        assert!(check_field("title", "a\ttitle").is_err());
        assert!(check_field("chapters[2].title", "a\ntitle").is_err());
        assert!(check_field("chapters[2].summary", "a\nsummary").is_ok());
        assert!(check_field("email", "a@b.co").is_ok());
        let e = check_field("email", "a\u{0}@b.co").unwrap_err().to_string();
        assert!(e.contains("`email`"), "{e}");
    }

    #[test]
    fn json_bodies_name_the_field() {
        let body = Bytes::from(r#"{"idea":"ok","architecture":{"title":"x\u0000y"}}"#);
        let e = check_body(BodyKind::Json, &body).unwrap_err().to_string();
        assert!(e.contains("`architecture.title`"), "{e}");
        let body = Bytes::from("csrf_token=x&name=a%00b");
        let e = check_body(BodyKind::Form, &body).unwrap_err().to_string();
        assert!(e.contains("`name`"), "{e}");
        assert!(check_body(BodyKind::Json, &Bytes::from("not json")).is_ok());
    }

    #[test]
    fn queries_and_percent_decoding() {
        assert!(check_query("q=a%00b").is_err());
        assert!(check_query("q=abc&page=2").is_ok());
        assert_eq!(percent_decode(b"abc%00def"), b"abc\0def");
        assert_eq!(percent_decode(b"%2"), b"%2");
        assert_eq!(percent_decode(b"%zz"), b"%zz");
    }
}
