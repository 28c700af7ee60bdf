//! Logging: one JSON object per line (time, level, target, message, and any structured fields such as
//! request_id, method, path, status, duration_ms), plus the request-logging middleware. Values that are
//! secrets never reach here: they are `Secret`s and print as `***`.

use std::io::Write;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::HttpMessage;
use serde_json::{Map, Value};

/// Installs the JSON logger (level from `RUST_LOG`, default `info`). Safe to call more than once.
pub fn init_logging() {
    let env = env_logger::Env::default().default_filter_or("info,actix_server=warn,actix_web=warn");
    let _ = env_logger::Builder::from_env(env)
        .format(|buf, record| {
            let mut obj = Map::new();
            obj.insert(
                "time".into(),
                Value::String(chrono::Utc::now().to_rfc3339()),
            );
            obj.insert("level".into(), Value::String(record.level().to_string()));
            obj.insert("target".into(), Value::String(record.target().to_string()));
            obj.insert("message".into(), Value::String(record.args().to_string()));
            let mut fields = FieldCollector(&mut obj);
            let _ = record.key_values().visit(&mut fields);
            writeln!(buf, "{}", Value::Object(obj))
        })
        .try_init();
}

struct FieldCollector<'a>(&'a mut Map<String, Value>);

impl<'kvs> log::kv::VisitSource<'kvs> for FieldCollector<'_> {
    fn visit_pair(
        &mut self,
        key: log::kv::Key<'kvs>,
        value: log::kv::Value<'kvs>,
    ) -> Result<(), log::kv::Error> {
        let v = if let Some(n) = value.to_u64() {
            Value::from(n)
        } else if let Some(n) = value.to_i64() {
            Value::from(n)
        } else if let Some(f) = value.to_f64() {
            Value::from(f)
        } else if let Some(b) = value.to_bool() {
            Value::from(b)
        } else {
            Value::String(value.to_string())
        };
        self.0.insert(key.to_string(), v);
        Ok(())
    }
}

/// The id of the request being served, for logs and the `X-Request-Id` header.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// Assigns a request id (or keeps a sane incoming `X-Request-Id`), and logs one line per request.
pub async fn log_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let incoming = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    let request_id =
        incoming.map_or_else(|| uuid::Uuid::new_v4().simple().to_string(), str::to_string);
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let method = req.method().to_string();
    let path = req.path().to_string();
    let mut res = next.call(req).await?;
    let status = res.status().as_u16();
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        res.headers_mut()
            .insert(HeaderName::from_static("x-request-id"), v);
    }
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    let duration_ms = (duration_ms * 100.0).round() / 100.0;
    if path.starts_with("/health") || path.starts_with("/static") {
        log::debug!(target: "buko::http", request_id = request_id.as_str(), method = method.as_str(), path = path.as_str(), status = status, duration_ms = duration_ms; "request");
    } else {
        log::info!(target: "buko::http", request_id = request_id.as_str(), method = method.as_str(), path = path.as_str(), status = status, duration_ms = duration_ms; "request");
    }
    Ok(res)
}
