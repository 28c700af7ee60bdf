//! The `openai` image provider: `POST {base}/v1/images/generations` asking for `b64_json`, which OpenAI
//! and the common local servers speak. Errors are classified as for the LLM (`llm::errors::classify`:
//! 429 and 5xx temporary with `retry-after`; 400 — a content-policy refusal included — and 401
//! permanent, with the provider's message as the readable reason). An answer that is not the expected
//! JSON (an HTML error page from a proxy, say) is a permanent `malformed` error; the whole call is bounded
//! by the timeout, body included.

use std::time::Duration;

use base64::Engine as _;
use buko_actors::{LlmError, LlmErrorKind};
use futures_util::future::LocalBoxFuture;
use serde_json::{json, Value};

use super::{ImagePort, ImageRequest};
use crate::llm::errors::{classify, ErrorBody, RetryHints};
use crate::secret::Secret;

/// Largest answer read (a base64 1024×1536 PNG is ~4 MB).
const MAX_RESPONSE_BYTES: usize = 24 * 1024 * 1024;

#[derive(Clone, Debug)]
pub struct OpenAiImagesConfig {
    /// Without the version path (`https://api.openai.com`).
    pub base_url: String,
    pub api_key: Secret,
    pub model: String,
    /// `1024x1536` (portrait) by default.
    pub size: String,
    pub timeout: Duration,
    pub price_per_image: f64,
}

pub struct OpenAiImages {
    config: OpenAiImagesConfig,
}

impl OpenAiImages {
    pub fn new(config: OpenAiImagesConfig) -> Self {
        OpenAiImages { config }
    }

    pub fn request_body(&self, prompt: &str) -> Value {
        let mut body = json!({
            "model": self.config.model,
            "prompt": prompt,
            "n": 1,
            "size": self.config.size,
        });
        // gpt-image models always answer base64 and refuse the parameter; the others need it.
        if !self.config.model.starts_with("gpt-image") {
            body["response_format"] = json!("b64_json");
        }
        body
    }
}

fn malformed(what: &str) -> LlmError {
    LlmError::permanent(
        LlmErrorKind::Malformed,
        format!("the image provider's answer is not usable: {what}"),
    )
}

/// The image in a `{"data":[{"b64_json": …}]}` answer.
pub fn parse_answer(raw: &[u8]) -> Result<Vec<u8>, LlmError> {
    let v: Value = serde_json::from_slice(raw).map_err(|_| {
        let start: String = String::from_utf8_lossy(&raw[..raw.len().min(60)]).into();
        malformed(&format!("not JSON (starts with {start:?})"))
    })?;
    let b64 = v
        .pointer("/data/0/b64_json")
        .and_then(Value::as_str)
        .ok_or_else(|| malformed("no data[0].b64_json"))?;
    base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|_| malformed("b64_json is not base64"))
}

impl ImagePort for OpenAiImages {
    fn provider(&self) -> &str {
        "openai"
    }
    fn model(&self) -> &str {
        &self.config.model
    }
    fn price_per_image(&self) -> f64 {
        self.config.price_per_image
    }
    fn generate(
        &self,
        request: ImageRequest,
    ) -> LocalBoxFuture<'static, Result<Vec<u8>, LlmError>> {
        let body = self.request_body(&request.prompt);
        let url = format!(
            "{}/v1/images/generations",
            self.config.base_url.trim_end_matches('/')
        );
        let key = self.config.api_key.clone();
        let timeout = self.config.timeout;
        Box::pin(async move {
            let call = async {
                let mut req = crate::llm::http::client(timeout).post(url);
                if !key.is_empty() {
                    req = req.bearer_auth(key.expose());
                }
                let mut response = req
                    .send_json(&body)
                    .await
                    .map_err(crate::llm::http::send_error)?;
                let status = response.status();
                let hints = RetryHints::from_headers(response.headers());
                let raw = response
                    .body()
                    .limit(MAX_RESPONSE_BYTES)
                    .await
                    .map_err(|e| {
                        LlmError::temporary(
                            LlmErrorKind::Connection,
                            format!("reading the answer: {e}"),
                        )
                    })?;
                if !status.is_success() {
                    let err = classify(Some(status.as_u16()), &ErrorBody::parse(&raw), hints);
                    log::warn!("openai images: HTTP {} -> {err}", status.as_u16());
                    return Err(err);
                }
                parse_answer(&raw)
            };
            match tokio::time::timeout(timeout, call).await {
                Ok(r) => r,
                Err(_) => Err(LlmError::temporary(
                    LlmErrorKind::Timeout,
                    format!("no image after {} s", timeout.as_secs()),
                )),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_b64_and_names_what_is_wrong() {
        assert_eq!(
            parse_answer(br#"{"data":[{"b64_json":"aGk="}]}"#),
            Ok(b"hi".to_vec())
        );
        let html = parse_answer(b"<html><body>502 Bad Gateway</body></html>").unwrap_err();
        assert!(
            !html.is_temporary() && html.to_string().contains("not JSON"),
            "{html}"
        );
        assert!(parse_answer(br#"{"data":[]}"#).is_err());
        assert!(parse_answer(br#"{"data":[{"b64_json":"***"}]}"#).is_err());
    }

    #[test]
    fn gpt_image_models_get_no_response_format() {
        let cfg = |model: &str| OpenAiImagesConfig {
            base_url: "http://x".into(),
            api_key: Secret::new(String::new()),
            model: model.into(),
            size: "1024x1536".into(),
            timeout: Duration::from_secs(1),
            price_per_image: 0.0,
        };
        assert!(OpenAiImages::new(cfg("gpt-image-1"))
            .request_body("p")
            .get("response_format")
            .is_none());
        assert_eq!(
            OpenAiImages::new(cfg("dall-e-3")).request_body("p")["response_format"],
            "b64_json"
        );
    }
}
