//! The `openai` provider: OpenAI-compatible chat completions with streaming (`POST {base}/chat/completions`),
//! which Ollama, vLLM and llama.cpp's server also speak. `OPENAI_BASE_URL` includes the version path
//! (e.g. `http://localhost:11434/v1`). Usage comes from the final chunk (`stream_options.include_usage`);
//! `finish_reason: length` is a `MaxTokens` stop; `data: [DONE]` ends the stream. Reasoning fields some
//! servers stream (`reasoning_content`) are not book text and are dropped.

use buko_actors::{
    CallPurpose, CompletionRequest, LlmError, LlmErrorKind, LlmEvent, LlmPort, Price, Role,
    StopReason, Usage,
};
use futures_util::stream::{self, LocalBoxStream, StreamExt};
use serde_json::{json, Value};

use super::errors::{classify, ErrorBody, RetryHints};
use super::http::{self, StreamDecoder, Timeouts};
use super::sse::SseEvent;
use super::step_models::StepModels;
use crate::secret::Secret;

#[derive(Clone, Debug)]
pub struct OpenAiConfig {
    pub base_url: String,
    /// Empty for local servers that need none.
    pub api_key: Secret,
    pub model: String,
    pub max_output_tokens: u32,
    pub timeouts: Timeouts,
    /// Models of particular steps (`BUKO_MODEL_CHUNK`, …); `model` answers the others.
    pub step_models: StepModels,
}

pub struct OpenAiProvider {
    config: OpenAiConfig,
}

impl OpenAiProvider {
    pub fn new(config: OpenAiConfig) -> Self {
        OpenAiProvider { config }
    }

    fn step_model(&self, purpose: CallPurpose) -> &str {
        self.config
            .step_models
            .get(purpose)
            .unwrap_or(&self.config.model)
    }

    pub fn request_body(&self, req: &CompletionRequest) -> Value {
        let mut messages = Vec::with_capacity(req.messages.len() + 1);
        if !req.system.is_empty() {
            messages.push(json!({"role": "system", "content": req.system}));
        }
        for m in &req.messages {
            let role = match m.role {
                Role::User => "user",
                Role::Assistant => "assistant",
            };
            messages.push(json!({"role": role, "content": m.content}));
        }
        let mut body = json!({
            "model": self.step_model(req.purpose),
            "messages": messages,
            "max_tokens": req.max_tokens.clamp(1, self.config.max_output_tokens.max(1)),
            "stream": true,
            "stream_options": {"include_usage": true},
        });
        if let Some(t) = req.temperature {
            body["temperature"] = json!(t);
        }
        body
    }
}

#[derive(Debug, Default)]
pub struct OpenAiDecoder {
    request_id: Option<String>,
    usage: Usage,
    stop_reason: Option<StopReason>,
}

impl OpenAiDecoder {
    pub fn new(request_id: Option<String>) -> Self {
        OpenAiDecoder {
            request_id,
            ..Default::default()
        }
    }

    fn finished(&self) -> LlmEvent {
        LlmEvent::Finished {
            stop_reason: self.stop_reason.clone().unwrap_or(StopReason::EndTurn),
            usage: self.usage,
            request_id: self.request_id.clone(),
        }
    }
}

impl StreamDecoder for OpenAiDecoder {
    fn on_event(&mut self, event: SseEvent) -> Vec<Result<LlmEvent, LlmError>> {
        if event.data.trim() == "[DONE]" {
            return vec![Ok(self.finished())];
        }
        let v: Value = match serde_json::from_str(&event.data) {
            Ok(v) => v,
            Err(e) => {
                return vec![Err(LlmError::temporary(
                    LlmErrorKind::Malformed,
                    format!("bad JSON chunk: {e}"),
                ))]
            }
        };
        if v.get("error").is_some() {
            let body = ErrorBody::from_value(&v).unwrap_or_default();
            return vec![Err(classify(None, &body, RetryHints::default()))];
        }
        if let Some(u) = v.get("usage").filter(|u| !u.is_null()) {
            let n = |k: &str| u.get(k).and_then(Value::as_u64).unwrap_or(0);
            // Automatic prefix caching reports the prompt's cached share apart; it is part of
            // `prompt_tokens`, so the uncached input is the difference.
            let cached = u
                .pointer("/prompt_tokens_details/cached_tokens")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            self.usage = Usage {
                input_tokens: n("prompt_tokens").saturating_sub(cached),
                output_tokens: n("completion_tokens"),
                cache_creation_input_tokens: 0,
                cache_read_input_tokens: cached,
            };
        }
        let mut out = Vec::new();
        for choice in v
            .get("choices")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(t) = choice.pointer("/delta/content").and_then(Value::as_str) {
                if !t.is_empty() {
                    out.push(Ok(LlmEvent::TextDelta(t.to_string())));
                }
            }
            if let Some(r) = choice.get("finish_reason").and_then(Value::as_str) {
                self.stop_reason = Some(match r {
                    "stop" => StopReason::EndTurn,
                    "length" => StopReason::MaxTokens,
                    "content_filter" => StopReason::Refusal,
                    other => StopReason::Other(other.to_string()),
                });
            }
        }
        out
    }

    fn on_eof(&mut self) -> Option<Result<LlmEvent, LlmError>> {
        // Some servers close without `[DONE]`; a seen finish_reason is a complete answer.
        Some(match self.stop_reason {
            Some(_) => Ok(self.finished()),
            None => Err(LlmError::temporary(
                LlmErrorKind::StreamError,
                "stream ended before finish_reason",
            )),
        })
    }
}

impl LlmPort for OpenAiProvider {
    fn provider(&self) -> &str {
        "openai"
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
        let url = format!(
            "{}/chat/completions",
            self.config.base_url.trim_end_matches('/')
        );
        let key = self.config.api_key.clone();
        let timeouts = self.config.timeouts;
        stream::once(async move {
            let mut req = http::client(timeouts.connect)
                .post(&url)
                .insert_header(("accept", "text/event-stream"));
            if !key.is_empty() {
                req = req.insert_header(("authorization", format!("Bearer {}", key.expose())));
            }
            let response = match http::send_json(req, &body, timeouts, "openai").await {
                Ok(r) => r,
                Err(e) => return http::fail(e),
            };
            let request_id = response
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            log::info!(
                "openai: streaming, x-request-id {}",
                request_id.as_deref().unwrap_or("-")
            );
            http::drive(response, OpenAiDecoder::new(request_id), timeouts.stall)
        })
        .flatten()
        .boxed_local()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use buko_actors::model::ChapterPlan;
    use buko_actors::plan::plan_chunks;
    use buko_actors::prompt::chunk_request;
    use buko_actors::{Architecture, EngineConfig};

    /// Automatic prefix caching (OpenAI, vLLM, llama.cpp) needs the requests' first bytes identical:
    /// every chunk body of a book, serialized, starts with the same bytes through the stable prefix.
    #[test]
    fn chunk_bodies_of_a_book_share_their_prefix_byte_for_byte() {
        let provider = OpenAiProvider::new(OpenAiConfig {
            base_url: "http://x/v1".into(),
            api_key: Secret::new(""),
            model: "llama3.1:8b".into(),
            max_output_tokens: 4000,
            timeouts: super::super::anthropic::default_timeouts(),
            step_models: StepModels::default(),
        });
        let a = Architecture {
            title: "Tides".into(),
            chapters: (0..12)
                .map(|i| ChapterPlan {
                    title: format!("Chapter {i}"),
                    summary: format!("Events of chapter {i}"),
                    target_words: 3000,
                    ..ChapterPlan::default()
                })
                .collect(),
            ..Architecture::default()
        };
        let config = EngineConfig::default();
        let plan = plan_chunks(&a, 4000, &config);
        let bodies: Vec<(String, usize)> = plan
            .iter()
            .enumerate()
            .map(|(i, chunk)| {
                let summary = format!("summary {i}");
                let tail = format!("tail {i}");
                let req = chunk_request(&a, chunk, Some(&summary), Some(&tail), "b", 4000, &config);
                let user = &req.messages[0].content;
                let stable = &user[..req.context.stable_prefix.expect("prefix")];
                let body = serde_json::to_string(&provider.request_body(&req)).expect("json");
                // Where the stable prefix ends in the serialized body.
                let escaped = serde_json::to_string(stable).expect("json");
                let end =
                    body.find(escaped.trim_end_matches('"')).expect("in body") + escaped.len() - 1;
                (body, end)
            })
            .collect();
        assert!(bodies.len() > 12, "chapters split in parts too");
        let (first, end) = &bodies[0];
        for (body, e) in &bodies[1..] {
            assert_eq!(e, end);
            assert_eq!(body[..*end], first[..*end]);
            assert_ne!(body, first);
        }
    }
}
