//! The `anthropic` provider: the Messages API (`POST {base}/v1/messages`, `stream: true`) over awc.
//! It owns the request body (system, messages, prefill, extended thinking), the headers (`x-api-key`,
//! `anthropic-version`), logging the `request-id`, and reading `anthropic-ratelimit-*` headers into
//! gauges. Event decoding lives in `anthropic_stream`, error classes in `errors`.
//!
//! Model generations differ (per Anthropic's migration guides): from Claude 4.6 on, an assistant prefill
//! is a 400, so a continuation is sent as the text so far plus a user turn asking to continue; from the 5
//! generation on, manual `thinking.budget_tokens` and sampling parameters are 400s, so they are omitted.

use std::time::Duration;

use buko_actors::{
    CallPurpose, CompletionRequest, LlmError, LlmEvent, LlmPort, Message, Price, Role,
};
use futures_util::stream::{self, LocalBoxStream, StreamExt};
use serde_json::{json, Value};

use super::anthropic_stream::AnthropicDecoder;
use super::http::{self, Timeouts};
use super::model_id::claude_version;
use super::step_models::StepModels;
use crate::secret::Secret;

pub const ANTHROPIC_VERSION: &str = "2023-06-01";
/// The API's minimum thinking budget.
pub const MIN_THINKING_BUDGET: u32 = 1024;
const CONTINUE_PROMPT: &str =
    "Continue the text exactly where it stops. Do not repeat anything already written and add no preamble.";

#[derive(Clone, Debug)]
pub struct AnthropicConfig {
    pub base_url: String,
    pub api_key: Secret,
    pub model: String,
    pub max_output_tokens: u32,
    /// Extended thinking budget; `None` = thinking off.
    pub thinking_budget: Option<u32>,
    pub timeouts: Timeouts,
    /// Mark the stable prefix of chunk requests with `cache_control` (`BUKO_PROMPT_CACHE`).
    pub prompt_cache: bool,
    /// Models of particular steps (`BUKO_MODEL_CHUNK`, …); `model` answers the others.
    pub step_models: StepModels,
}

pub struct AnthropicProvider {
    config: AnthropicConfig,
}

impl AnthropicProvider {
    pub fn new(config: AnthropicConfig) -> Self {
        if config.thinking_budget.is_some() && !Self::manual_thinking(&config.model) {
            log::warn!(
                "anthropic: {} thinks adaptively; BUKO_THINKING_BUDGET is not sent to it",
                config.model
            );
        }
        AnthropicProvider { config }
    }

    fn manual_thinking(model: &str) -> bool {
        claude_version(model).is_none_or(|v| v < (5, 0))
    }

    fn step_model(&self, purpose: CallPurpose) -> &str {
        self.config
            .step_models
            .get(purpose)
            .unwrap_or(&self.config.model)
    }

    /// The JSON body for one request (public for tests and for inspection in logs).
    pub fn request_body(&self, req: &CompletionRequest) -> Value {
        let model = self.step_model(req.purpose);
        let version = claude_version(model);
        let prefill_ok = version.is_none_or(|v| v < (4, 6));
        let sampling_ok = version.is_none_or(|v| v < (5, 0));
        let mut messages: Vec<Value> = Vec::with_capacity(req.messages.len() + 1);
        let prefill = matches!(
            req.messages.last(),
            Some(Message {
                role: Role::Assistant,
                ..
            })
        );
        for (i, m) in req.messages.iter().enumerate() {
            let last = i + 1 == req.messages.len();
            // The API rejects a final assistant turn that ends in whitespace.
            let content = if last && prefill {
                m.content.trim_end()
            } else {
                m.content.as_str()
            };
            let role = match m.role {
                Role::User => "user",
                Role::Assistant => "assistant",
            };
            let cached = (i == 0 && m.role == Role::User && self.config.prompt_cache)
                .then_some(req.context.stable_prefix)
                .flatten();
            messages.push(json!({"role": role, "content": cache_blocks(content, cached)}));
        }
        if prefill && !prefill_ok {
            messages.push(json!({"role": "user", "content": CONTINUE_PROMPT}));
        }
        let thinking = self
            .config
            .thinking_budget
            .filter(|_| Self::manual_thinking(model))
            // Thinking cannot be combined with a prefill.
            .filter(|_| !(prefill && prefill_ok))
            .map(|b| b.max(MIN_THINKING_BUDGET));
        let mut body = json!({
            "model": model,
            "messages": messages,
            "stream": true,
        });
        if !req.system.is_empty() {
            body["system"] = json!(req.system);
        }
        let text_tokens = req
            .max_tokens
            .clamp(1, self.config.max_output_tokens.max(1));
        match thinking {
            Some(budget) => {
                // max_tokens must exceed the budget; the text keeps its own allowance on top.
                body["max_tokens"] = json!(text_tokens + budget);
                body["thinking"] = json!({"type": "enabled", "budget_tokens": budget});
                // Temperature must stay at its default while thinking.
            }
            None => {
                body["max_tokens"] = json!(text_tokens);
                if let (Some(t), true) = (req.temperature, sampling_ok) {
                    body["temperature"] = json!(t.clamp(0.0, 1.0));
                }
            }
        }
        body
    }
}

/// A message's content: plain text, or, with a cacheable prefix of `n` bytes, two text blocks whose
/// first carries the `cache_control` breakpoint (the system prompt before it is cached with it).
fn cache_blocks(content: &str, prefix: Option<usize>) -> Value {
    match prefix.filter(|n| *n > 0 && *n <= content.len() && content.is_char_boundary(*n)) {
        None => json!(content),
        Some(n) => {
            let (stable, rest) = content.split_at(n);
            let mut blocks = vec![json!({"type": "text", "text": stable,
                "cache_control": {"type": "ephemeral"}})];
            if !rest.is_empty() {
                blocks.push(json!({"type": "text", "text": rest}));
            }
            json!(blocks)
        }
    }
}

/// The `anthropic-ratelimit-{kind}-remaining` headers as `(kind, remaining)`.
pub fn rate_limits(headers: &awc::http::header::HeaderMap) -> Vec<(String, f64)> {
    headers
        .iter()
        .filter_map(|(name, value)| {
            let kind = name
                .as_str()
                .strip_prefix("anthropic-ratelimit-")?
                .strip_suffix("-remaining")?;
            let v = value.to_str().ok()?.trim().parse::<f64>().ok()?;
            Some((kind.to_string(), v))
        })
        .collect()
}

fn record_rate_limits(headers: &awc::http::header::HeaderMap) {
    for (kind, v) in rate_limits(headers) {
        metrics::gauge!("buko_llm_ratelimit_remaining", "provider" => "anthropic", "kind" => kind)
            .set(v);
    }
}

impl LlmPort for AnthropicProvider {
    fn provider(&self) -> &str {
        "anthropic"
    }
    fn model(&self) -> &str {
        &self.config.model
    }
    fn model_for(&self, purpose: CallPurpose) -> &str {
        self.step_model(purpose)
    }
    fn price_for(&self, purpose: CallPurpose) -> Price {
        super::pricing::price_for(self.step_model(purpose))
    }
    fn max_output_tokens(&self) -> u32 {
        self.config.max_output_tokens
    }
    fn price(&self) -> Price {
        super::pricing::price_for(&self.config.model)
    }

    fn stream(
        &self,
        request: CompletionRequest,
    ) -> LocalBoxStream<'static, Result<LlmEvent, LlmError>> {
        let body = self.request_body(&request);
        let url = format!("{}/v1/messages", self.config.base_url.trim_end_matches('/'));
        let key = self.config.api_key.clone();
        let timeouts = self.config.timeouts;
        stream::once(async move {
            let req = http::client(timeouts.connect)
                .post(&url)
                .insert_header(("x-api-key", key.expose()))
                .insert_header(("anthropic-version", ANTHROPIC_VERSION))
                .insert_header(("accept", "text/event-stream"));
            let response = match http::send_json(req, &body, timeouts, "anthropic").await {
                Ok(r) => r,
                Err(e) => {
                    metrics::counter!("buko_llm_errors_total", "provider" => "anthropic", "kind" => e.kind().as_str())
                        .increment(1);
                    return http::fail(e);
                }
            };
            record_rate_limits(response.headers());
            let request_id = response
                .headers()
                .get("request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            log::info!("anthropic: streaming, request-id {}", request_id.as_deref().unwrap_or("-"));
            http::drive(response, AnthropicDecoder::new(request_id), timeouts.stall)
        })
        .flatten()
        .boxed_local()
    }
}

/// Default limits when the environment says nothing.
pub fn default_timeouts() -> Timeouts {
    Timeouts {
        connect: Duration::from_secs(10),
        request: Duration::from_secs(120),
        stall: Duration::from_secs(90),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use buko_actors::{CallPurpose, RequestContext};

    fn provider(model: &str, thinking: Option<u32>) -> AnthropicProvider {
        AnthropicProvider::new(AnthropicConfig {
            base_url: "http://x".into(),
            api_key: Secret::new("k"),
            model: model.into(),
            max_output_tokens: 8000,
            thinking_budget: thinking,
            timeouts: default_timeouts(),
            prompt_cache: true,
            step_models: StepModels::default(),
        })
    }

    fn request(prefill: bool) -> CompletionRequest {
        let mut messages = vec![Message {
            role: Role::User,
            content: "Write.".into(),
        }];
        if prefill {
            messages.push(Message {
                role: Role::Assistant,
                content: "Once upon a time ".into(),
            });
        }
        CompletionRequest {
            purpose: CallPurpose::Chunk,
            system: "sys".into(),
            messages,
            max_tokens: 2000,
            temperature: Some(0.7),
            context: RequestContext::default(),
        }
    }

    #[test]
    fn each_step_is_sent_to_and_priced_as_its_model() {
        let mut p = provider("claude-sonnet-4-5", None);
        p.config.step_models.summary = Some("claude-haiku-4-5".into());
        let mut r = request(false);
        assert_eq!(p.request_body(&r)["model"], json!("claude-sonnet-4-5"));
        r.purpose = CallPurpose::Summary;
        assert_eq!(p.request_body(&r)["model"], json!("claude-haiku-4-5"));
        assert_eq!(p.model_for(CallPurpose::Summary), "claude-haiku-4-5");
        assert_eq!(p.price_for(CallPurpose::Summary).input_per_mtok, 1.0);
        assert_eq!(p.price_for(CallPurpose::Chunk).input_per_mtok, 3.0);
    }

    #[test]
    fn the_stable_prefix_of_a_chunk_carries_the_cache_breakpoint() {
        let mut r = request(true);
        r.messages[0].content = "## Book\nTides\n## Your task\nWrite.".into();
        r.context.stable_prefix = Some("## Book\nTides\n".len());
        let b = provider("claude-sonnet-4-5", None).request_body(&r);
        assert_eq!(
            b["messages"][0]["content"],
            json!([
                {"type": "text", "text": "## Book\nTides\n", "cache_control": {"type": "ephemeral"}},
                {"type": "text", "text": "## Your task\nWrite."}
            ])
        );
        // The prefill (and everything else) stays plain text.
        assert_eq!(b["messages"][1]["content"], json!("Once upon a time"));
        let mut off = provider("claude-sonnet-4-5", None);
        off.config.prompt_cache = false;
        assert!(off.request_body(&r)["messages"][0]["content"].is_string());
        r.context.stable_prefix = Some(999);
        let b = provider("claude-sonnet-4-5", None).request_body(&r);
        assert!(
            b["messages"][0]["content"].is_string(),
            "a bad prefix is ignored"
        );
    }

    #[test]
    fn reads_rate_limit_headers() {
        let mut h = awc::http::header::HeaderMap::new();
        for (k, v) in [
            ("anthropic-ratelimit-requests-remaining", "49"),
            ("anthropic-ratelimit-output-tokens-remaining", "7000"),
            ("anthropic-ratelimit-requests-limit", "50"),
            ("anthropic-ratelimit-tokens-reset", "2026-11-22T00:00:00Z"),
        ] {
            h.insert(k.parse().expect("name"), v.parse().expect("value"));
        }
        let mut got = rate_limits(&h);
        got.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            got,
            vec![
                ("output-tokens".to_string(), 7000.0),
                ("requests".to_string(), 49.0)
            ]
        );
    }

    #[test]
    fn parses_model_generations() {
        assert_eq!(claude_version("claude-sonnet-4-5-20250929"), Some((4, 5)));
        assert_eq!(claude_version("claude-3-5-haiku-latest"), Some((3, 5)));
        assert_eq!(claude_version("claude-sonnet-5"), Some((5, 0)));
        assert_eq!(claude_version("claude-sonnet-5-5"), Some((5, 5)));
        assert_eq!(claude_version("fake-model"), None);
    }

    #[test]
    fn thinking_raises_max_tokens_and_drops_temperature() {
        let b = provider("claude-sonnet-4-5", Some(3000)).request_body(&request(false));
        assert_eq!(
            b["thinking"],
            json!({"type": "enabled", "budget_tokens": 3000})
        );
        assert_eq!(b["max_tokens"], json!(5000));
        assert!(b.get("temperature").is_none());
        let b = provider("claude-sonnet-4-5", None).request_body(&request(false));
        assert_eq!(b["max_tokens"], json!(2000));
        assert!(b.get("thinking").is_none());
        assert!(b["temperature"]
            .as_f64()
            .is_some_and(|t| (t - 0.7).abs() < 1e-6));
    }

    #[test]
    fn prefill_is_trimmed_and_disables_thinking_on_older_models() {
        let b = provider("claude-sonnet-4-5", Some(2000)).request_body(&request(true));
        let msgs = b["messages"].as_array().cloned().unwrap_or_default();
        assert_eq!(
            msgs.last(),
            Some(&json!({"role": "assistant", "content": "Once upon a time"}))
        );
        assert!(b.get("thinking").is_none());
    }

    #[test]
    fn newer_models_get_a_continue_turn_and_no_sampling_params() {
        let b = provider("claude-sonnet-5-5", Some(2000)).request_body(&request(true));
        let msgs = b["messages"].as_array().cloned().unwrap_or_default();
        assert_eq!(msgs.len(), 3);
        assert_eq!(msgs[2]["role"], json!("user"));
        assert!(b.get("thinking").is_none() && b.get("temperature").is_none());
    }
}
