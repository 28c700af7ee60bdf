//! The retry policy applied to LLM calls: ask the provider's breaker, call, report, back off with full
//! jitter (never sooner than `retry-after`), give up after the configured attempts. Permanent errors
//! are never retried. Attempts count only failures while the provider is deemed reachable: a failed
//! half-open trial, or a failure that opens the breaker, is the breaker's business (the book waits for
//! it, however long the outage), not the chunk's. What a wait means for a book (status `paused`, or
//! the run yielding to the job queue) is decided by [`CallHooks`].

use std::time::Duration;

use futures_util::future::LocalBoxFuture;

use crate::breaker::{BreakerState, CallOutcome};
use crate::deps::EngineDeps;
use crate::llm_call::{stream_to_end, Completion};
use crate::outcome::Halt;
use crate::ports::{CallRecord, CompletionRequest, LlmError, LlmErrorKind};
use crate::retry::backoff;

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum CallError {
    /// Temporary failures used every attempt; the last one is kept.
    Exhausted(LlmError),
    Permanent(LlmError),
    Halt(Halt),
}

/// What the caller does around the calls (a book sets its status; an architecture call does nothing).
pub(crate) trait CallHooks {
    /// The breaker refuses calls for `retry_in`. `Ok(true)`: wait without using an attempt;
    /// `Err(Halt::ProviderWait)`: end the run, to be scheduled again.
    fn breaker_open(&mut self, retry_in: Duration) -> LocalBoxFuture<'_, Result<bool, Halt>>;
    /// A call is about to be made (attempt 0 is the first).
    fn attempt_start(&mut self, attempt: u32) -> LocalBoxFuture<'_, Result<(), Halt>>;
}

/// Hooks of a call that belongs to no running book: breaker waits use attempts, nothing is announced.
pub(crate) struct NoHooks;

impl CallHooks for NoHooks {
    fn breaker_open(&mut self, _: Duration) -> LocalBoxFuture<'_, Result<bool, Halt>> {
        Box::pin(async { Ok(false) })
    }
    fn attempt_start(&mut self, _: u32) -> LocalBoxFuture<'_, Result<(), Halt>> {
        Box::pin(async { Ok(()) })
    }
}

pub(crate) async fn call_with_retry(
    deps: &EngineDeps,
    request: &CompletionRequest,
    hooks: &mut dyn CallHooks,
    on_text: &mut dyn FnMut(&str),
    calls: &mut Vec<CallRecord>,
) -> Result<Completion, CallError> {
    let provider = deps.llm.provider().to_string();
    let retry = &deps.config.retry;
    let max_attempts = retry.max_attempts.max(1);
    let mut attempt: u32 = 0;
    loop {
        let permit = match deps.breakers.acquire(&provider) {
            Ok(p) => p,
            Err(retry_in) => {
                let wait = retry_in
                    .min(deps.config.breaker_poll)
                    .max(Duration::from_millis(1));
                if !hooks
                    .breaker_open(retry_in)
                    .await
                    .map_err(CallError::Halt)?
                {
                    attempt += 1;
                    if attempt >= max_attempts {
                        let msg = format!("provider {provider} unavailable (circuit breaker open)");
                        return Err(CallError::Exhausted(LlmError::temporary(
                            LlmErrorKind::Overloaded,
                            msg,
                        )));
                    }
                }
                tokio::time::sleep(wait).await;
                continue;
            }
        };
        // An error here drops the permit, which frees it without counting.
        hooks
            .attempt_start(attempt)
            .await
            .map_err(CallError::Halt)?;
        let result = stream_to_end(deps, request, on_text, calls).await;
        let outcome = match &result {
            Ok(_) => CallOutcome::Success,
            Err(e) if e.is_temporary() => CallOutcome::TemporaryFailure,
            Err(_) => CallOutcome::NotCounted,
        };
        let trial = permit.is_trial();
        permit.report(outcome);
        match result {
            Ok(c) => return Ok(c),
            Err(e) if !e.is_temporary() => return Err(CallError::Permanent(e)),
            // The provider is down as far as the breaker can tell: wait for it, spend no attempt.
            Err(e) if trial || deps.breakers.state(&provider) != BreakerState::Closed => {
                log::info!(
                    "{} call failed ({e}) with the breaker not closed; waiting for the provider",
                    request.purpose.as_str()
                );
            }
            Err(e) => {
                attempt += 1;
                if attempt >= max_attempts {
                    return Err(CallError::Exhausted(e));
                }
                let delay = backoff(retry, attempt - 1, e.retry_after());
                log::info!(
                    "{} call failed ({e}); retry {attempt} in {delay:?}",
                    request.purpose.as_str()
                );
                tokio::time::sleep(delay).await;
            }
        }
    }
}
