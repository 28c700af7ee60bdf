//! Decodes the Anthropic Messages streaming events into `LlmEvent`s: `message_start` (input usage),
//! `content_block_start/delta/stop` (only `text` blocks become book text; `thinking`, `signature` and
//! tool deltas are dropped), `message_delta` (stop reason, cumulative usage), `message_stop` (done),
//! reported usage surfaced as `LlmEvent::Usage` as soon as it is known (a broken stream is billed too),
//! `ping` and unknown events (ignored) and `error` (classified like an HTTP error).

use buko_actors::{LlmError, LlmErrorKind, LlmEvent, StopReason, Usage};
use serde_json::Value;

use super::errors::{classify, ErrorBody, RetryHints};
use super::http::StreamDecoder;
use super::sse::SseEvent;

#[derive(Debug, Default)]
pub struct AnthropicDecoder {
    request_id: Option<String>,
    usage: Usage,
    stop_reason: Option<StopReason>,
    /// Characters of thinking seen (never surfaced; for debug logs).
    thinking_chars: usize,
}

impl AnthropicDecoder {
    pub fn new(request_id: Option<String>) -> Self {
        AnthropicDecoder {
            request_id,
            ..Default::default()
        }
    }
}

pub fn stop_reason(s: &str) -> StopReason {
    match s {
        "end_turn" => StopReason::EndTurn,
        "max_tokens" => StopReason::MaxTokens,
        "stop_sequence" => StopReason::StopSequence,
        "refusal" => StopReason::Refusal,
        "pause_turn" => StopReason::PauseTurn,
        "model_context_window_exceeded" => StopReason::ContextWindowExceeded,
        other => StopReason::Other(other.to_string()),
    }
}

fn malformed(what: &str) -> LlmError {
    LlmError::temporary(LlmErrorKind::Malformed, format!("malformed stream: {what}"))
}

impl StreamDecoder for AnthropicDecoder {
    fn on_event(&mut self, event: SseEvent) -> Vec<Result<LlmEvent, LlmError>> {
        let data: Value = match serde_json::from_str(&event.data) {
            Ok(v) => v,
            Err(e) => {
                return vec![Err(malformed(&format!(
                    "bad JSON in {:?}: {e}",
                    event.event
                )))]
            }
        };
        // The `type` in the data is authoritative; the `event:` line names the same thing.
        let kind = data
            .get("type")
            .and_then(Value::as_str)
            .or(event.event.as_deref())
            .unwrap_or("");
        match kind {
            "message_start" => {
                if let Some(usage) = data.pointer("/message/usage") {
                    read_usage(&mut self.usage, usage);
                }
                // Billed from here on, even if the stream breaks later.
                vec![Ok(LlmEvent::Usage(self.usage))]
            }
            "content_block_start" => match data
                .pointer("/content_block/type")
                .and_then(Value::as_str)
            {
                Some("text") => match data.pointer("/content_block/text").and_then(Value::as_str) {
                    Some(t) if !t.is_empty() => vec![Ok(LlmEvent::TextDelta(t.to_string()))],
                    _ => vec![],
                },
                _ => vec![],
            },
            "content_block_delta" => match data.pointer("/delta/type").and_then(Value::as_str) {
                Some("text_delta") => match data.pointer("/delta/text").and_then(Value::as_str) {
                    Some("") => vec![],
                    Some(t) => vec![Ok(LlmEvent::TextDelta(t.to_string()))],
                    None => vec![Err(malformed("text_delta without text"))],
                },
                Some("thinking_delta") => {
                    let n = data
                        .pointer("/delta/thinking")
                        .and_then(Value::as_str)
                        .map_or(0, str::len);
                    self.thinking_chars += n;
                    vec![]
                }
                _ => vec![], // signature_delta, input_json_delta, citations_delta, future kinds
            },
            "message_delta" => {
                if let Some(r) = data.pointer("/delta/stop_reason").and_then(Value::as_str) {
                    self.stop_reason = Some(stop_reason(r));
                }
                if let Some(usage) = data.get("usage") {
                    read_usage(&mut self.usage, usage);
                }
                vec![Ok(LlmEvent::Usage(self.usage))]
            }
            "message_stop" => {
                if self.thinking_chars > 0 {
                    log::debug!(
                        "anthropic: {} characters of thinking dropped",
                        self.thinking_chars
                    );
                }
                vec![Ok(LlmEvent::Finished {
                    stop_reason: self.stop_reason.clone().unwrap_or(StopReason::EndTurn),
                    usage: self.usage,
                    request_id: self.request_id.clone(),
                })]
            }
            "error" => {
                let body = ErrorBody::from_value(&data).unwrap_or_default();
                let err = classify(None, &body, RetryHints::default());
                log::warn!(
                    "anthropic: error event mid-stream (request-id {:?}): {err}",
                    self.request_id
                );
                vec![Err(err)]
            }
            _ => vec![], // ping, content_block_stop, and event types added after this was written
        }
    }

    fn on_eof(&mut self) -> Option<Result<LlmEvent, LlmError>> {
        Some(Err(LlmError::temporary(
            LlmErrorKind::StreamError,
            "stream ended before message_stop",
        )))
    }
}

/// Applies the counts present in a `usage` object (cumulative: a later event repeats or raises them).
/// With prompt caching `input_tokens` is the uncached input only; the cache's share comes apart.
fn read_usage(usage: &mut Usage, v: &Value) {
    let n = |k: &str| v.get(k).and_then(Value::as_u64);
    if let Some(n) = n("input_tokens") {
        usage.input_tokens = n;
    }
    if let Some(n) = n("output_tokens") {
        usage.output_tokens = n;
    }
    if let Some(n) = n("cache_creation_input_tokens") {
        usage.cache_creation_input_tokens = n;
    }
    if let Some(n) = n("cache_read_input_tokens") {
        usage.cache_read_input_tokens = n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(data: &str) -> SseEvent {
        SseEvent {
            event: None,
            data: data.to_string(),
        }
    }

    #[test]
    fn thinking_is_dropped_and_text_kept() {
        let mut d = AnthropicDecoder::new(Some("req_1".into()));
        let mut out = Vec::new();
        for data in [
            r#"{"type":"message_start","message":{"usage":{"input_tokens":12,"output_tokens":1}}}"#,
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hmm"}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"x"}}"#,
            r#"{"type":"ping"}"#,
            r#"{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}"#,
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Hola"}}"#,
            r#"{"type":"brand_new_event","x":1}"#,
            r#"{"type":"message_delta","delta":{"stop_reason":"max_tokens"},"usage":{"output_tokens":40}}"#,
            r#"{"type":"message_stop"}"#,
        ] {
            out.extend(d.on_event(ev(data)));
        }
        assert_eq!(
            out,
            vec![
                Ok(LlmEvent::Usage(Usage::new(12, 1))),
                Ok(LlmEvent::TextDelta("Hola".into())),
                Ok(LlmEvent::Usage(Usage::new(12, 40))),
                Ok(LlmEvent::Finished {
                    stop_reason: StopReason::MaxTokens,
                    usage: Usage::new(12, 40),
                    request_id: Some("req_1".into()),
                }),
            ]
        );
    }

    #[test]
    fn cache_usage_is_read_apart_from_the_uncached_input() {
        let mut d = AnthropicDecoder::default();
        let out = d.on_event(ev(
            r#"{"type":"message_start","message":{"usage":{"input_tokens":50,
            "cache_creation_input_tokens":0,"cache_read_input_tokens":2000,"output_tokens":1}}}"#,
        ));
        let want = Usage {
            input_tokens: 50,
            output_tokens: 1,
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: 2000,
        };
        assert_eq!(out, vec![Ok(LlmEvent::Usage(want))]);
        let out = d.on_event(ev(
            r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":700}}"#,
        ));
        let want = Usage {
            output_tokens: 700,
            ..want
        };
        assert_eq!(out, vec![Ok(LlmEvent::Usage(want))]);
    }

    #[test]
    fn stop_reasons_that_are_not_an_end_are_not_mistaken_for_one() {
        assert_eq!(stop_reason("pause_turn"), StopReason::PauseTurn);
        assert_eq!(
            stop_reason("model_context_window_exceeded"),
            StopReason::ContextWindowExceeded
        );
        assert_eq!(
            stop_reason("tool_use"),
            StopReason::Other("tool_use".into())
        );
    }

    #[test]
    fn error_event_is_classified() {
        let mut d = AnthropicDecoder::default();
        let out = d.on_event(ev(
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        ));
        assert_eq!(
            out,
            vec![Err(LlmError::temporary(
                LlmErrorKind::Overloaded,
                "Overloaded"
            ))]
        );
        assert!(d
            .on_event(ev("{not json"))
            .first()
            .is_some_and(|r| r.is_err()));
        assert!(d.on_eof().is_some_and(|r| r.is_err()));
    }
}
