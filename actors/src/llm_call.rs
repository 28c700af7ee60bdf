//! One attempt at a completion: stream it to its end with a stall timeout and a hard deadline, continue
//! a `max_tokens` or `pause_turn` stop with the partial text as an assistant prefill, and record every
//! call (ok or failed) with its usage and cost. A failed call is recorded with what the provider
//! reported before it failed (input tokens announce at the start of a stream) and, when the provider
//! had not counted the output yet, the output estimated from the text streamed (≈ 4 chars a token):
//! the provider may bill a broken attempt. Unknown stop reasons are never a finished answer. Retrying
//! and the breaker are the caller's concern.

use futures_util::StreamExt;
use tokio::time::Instant;

use crate::deps::EngineDeps;
use crate::ports::{
    CallPurpose, CallRecord, CompletionRequest, LlmError, LlmErrorKind, LlmEvent, Message, Role,
    StopReason, Usage,
};
use crate::retry::store_call;

/// A finished response (continuations joined).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Completion {
    pub text: String,
    pub usage: Usage,
}

/// Streams `request` to a real end. `on_text` sees every delta in order; `calls` gets a record of each
/// underlying call.
pub(crate) async fn stream_to_end(
    deps: &EngineDeps,
    request: &CompletionRequest,
    on_text: &mut dyn FnMut(&str),
    calls: &mut Vec<CallRecord>,
) -> Result<Completion, LlmError> {
    let config = &deps.config;
    let deadline = Instant::now() + config.chunk_timeout;
    let mut text = String::new();
    let mut usage = Usage::default();
    for continuation in 0..=config.max_continuations {
        let mut req = request.clone();
        if continuation > 0 {
            req.messages.push(Message {
                role: Role::Assistant,
                content: text.clone(),
            });
            req.context.continuation = true;
        }
        let started = Instant::now();
        let mut on_piece = |piece: &str| {
            text.push_str(piece);
            on_text(piece);
        };
        let (result, call_usage, request_id) =
            one_stream(deps, &req, deadline, &mut on_piece).await;
        usage.add(call_usage);
        record(deps, &req, call_usage, started, &result, request_id, calls).await;
        match result? {
            // A summary is cut to its budget anyway: a verbose answer is used as it is, never continued
            // (continuing it could only fail the book over a summary).
            StopReason::MaxTokens
                if request.purpose == CallPurpose::Summary && !text.trim().is_empty() =>
            {
                return Ok(Completion { text, usage })
            }
            // Both mean "not finished yet": send the text so far back and let the model go on.
            StopReason::MaxTokens | StopReason::PauseTurn => continue,
            StopReason::Refusal => {
                return Err(LlmError::permanent(
                    LlmErrorKind::Refused,
                    "the model refused to write this part",
                ))
            }
            StopReason::ContextWindowExceeded => {
                return Err(LlmError::permanent(
                    LlmErrorKind::TooLarge,
                    "the prompt and the answer filled the model's context window \
                     (stop reason model_context_window_exceeded); the text was cut short",
                ))
            }
            // Half an answer must never be saved as a whole one.
            StopReason::Other(reason) => {
                return Err(LlmError::temporary(
                    LlmErrorKind::Malformed,
                    format!("unknown stop reason {reason:?}; the answer is not taken as complete"),
                ))
            }
            _ if text.trim().is_empty() => {
                return Err(LlmError::temporary(
                    LlmErrorKind::Malformed,
                    "the response had no text",
                ))
            }
            StopReason::EndTurn | StopReason::StopSequence => {
                return Ok(Completion { text, usage })
            }
        }
    }
    Err(LlmError::temporary(
        LlmErrorKind::Malformed,
        format!(
            "the response still stopped on max_tokens after {} continuations",
            config.max_continuations
        ),
    ))
}

async fn one_stream(
    deps: &EngineDeps,
    request: &CompletionRequest,
    deadline: Instant,
    on_text: &mut dyn FnMut(&str),
) -> (Result<StopReason, LlmError>, Usage, Option<String>) {
    let stall = deps.config.stall_timeout;
    let mut stream = deps.llm.stream(request.clone());
    // What the provider reported so far, and the chars streamed (for the output estimate on failure).
    let mut reported = Usage::default();
    let mut streamed_chars: u64 = 0;
    let failed = |e: LlmError, reported: Usage, chars: u64| {
        let estimated = chars.div_ceil(4);
        let usage = Usage {
            output_tokens: reported.output_tokens.max(estimated),
            ..reported
        };
        (Err(e), usage, None)
    };
    loop {
        let wait_until = (Instant::now() + stall).min(deadline);
        let next = match tokio::time::timeout_at(wait_until, stream.next()).await {
            Ok(next) => next,
            Err(_) if wait_until >= deadline => {
                let msg = format!("no answer within the {:?} limit", deps.config.chunk_timeout);
                let e = LlmError::temporary(LlmErrorKind::Timeout, msg);
                return failed(e, reported, streamed_chars);
            }
            Err(_) => {
                let msg = format!("no text for {stall:?}");
                let e = LlmError::temporary(LlmErrorKind::Stalled, msg);
                return failed(e, reported, streamed_chars);
            }
        };
        match next {
            Some(Ok(LlmEvent::TextDelta(t))) => {
                streamed_chars += t.chars().count() as u64;
                on_text(&t);
            }
            Some(Ok(LlmEvent::Usage(u))) => reported = u,
            Some(Ok(LlmEvent::Finished {
                stop_reason,
                usage,
                request_id,
            })) => return (Ok(stop_reason), usage, request_id),
            Some(Err(e)) => return failed(e, reported, streamed_chars),
            None => {
                let e = LlmError::temporary(
                    LlmErrorKind::StreamError,
                    "the stream ended without a stop reason",
                );
                return failed(e, reported, streamed_chars);
            }
        }
    }
}

async fn record(
    deps: &EngineDeps,
    request: &CompletionRequest,
    usage: Usage,
    started: Instant,
    result: &Result<StopReason, LlmError>,
    request_id: Option<String>,
    calls: &mut Vec<CallRecord>,
) {
    let (status, error_kind) = match result {
        Ok(_) => ("ok", None),
        Err(e) if e.is_temporary() => ("temporary", Some(e.kind())),
        Err(e) => ("permanent", Some(e.kind())),
    };
    let call = CallRecord {
        book_id: request.context.book_id.clone(),
        purpose: request.purpose,
        provider: deps.llm.provider().to_string(),
        model: deps.llm.model_for(request.purpose).to_string(),
        usage,
        cost_usd: deps.llm.price_for(request.purpose).cost(usage),
        latency_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        status: status.to_string(),
        error_kind,
        request_id,
        at: deps.clock.now(),
    };
    // Accounting must not stop a book: a lost record is logged, the text is what matters.
    if let Err(e) = store_call(&deps.config.store_retry, || {
        deps.store.record_call(call.clone())
    })
    .await
    {
        log::warn!("could not record an LLM call: {e}");
    }
    calls.push(call);
}
