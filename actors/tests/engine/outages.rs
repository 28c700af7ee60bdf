//! Issue 20: long provider outages wait for the breaker instead of burning attempts; stop reasons that
//! are not an end are never saved as a finished chunk; every attempt's usage counts; `book_completed`
//! reports the book's totals across runs.

use std::time::Duration;

use buko_actors::*;

use crate::helpers::*;
use crate::llm::{chunk_text, ScriptLlm, Step};

fn overloaded() -> LlmError {
    LlmError::temporary(LlmErrorKind::Overloaded, "injected overload")
}

/// Before: each failed half-open trial used an attempt, so an outage longer than `max_attempts`
/// cool-downs ended the run `paused` ("still failing after N attempts") and nothing resumed it.
#[actix::test]
async fn an_outage_longer_than_the_attempts_waits_in_place_and_completes() {
    let mut config = fast_config();
    config.retry.max_attempts = 3;
    config.breaker.consecutive_failures = 2;
    config.breaker.cool_down = Duration::from_millis(40);
    config.breaker.max_cool_down = Duration::from_millis(80);
    let mut h = Harness::new(ScriptLlm::default(), config);
    h.store.add_book("o1", architecture(2, 500));
    *h.llm.failing.lock().unwrap() = Some(overloaded());
    h.start("o1", None).await;
    // Many cool-downs: far more trial calls than attempts.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let calls = h.llm.requests.lock().unwrap().len();
    assert!(calls > 6, "only {calls} trial calls during the outage");
    assert!(
        h.done.try_recv().is_err(),
        "the run ended during the outage"
    );
    let book = h.store.book("o1");
    assert_eq!(book.status, Some(BookStatus::Paused));
    assert_eq!(book.reason.as_deref(), Some("provider_unavailable"));
    *h.llm.failing.lock().unwrap() = None;
    assert_eq!(
        h.outcome(Duration::from_secs(5)).await.outcome,
        BookOutcome::Completed
    );
}

/// With `yield_while_breaker_open` (the application), the run ends as `WaitingForProvider` so the job
/// queue can schedule it; the next run completes the book once the provider answers again.
#[actix::test]
async fn an_open_breaker_yields_the_run_to_the_queue() {
    let mut config = fast_config();
    config.yield_while_breaker_open = true;
    let mut h = Harness::new(ScriptLlm::default(), config);
    h.store.add_book("y1", architecture(2, 500));
    *h.llm.failing.lock().unwrap() = Some(overloaded());
    h.start("y1", None).await;
    let done = h.outcome(Duration::from_secs(5)).await;
    let BookOutcome::WaitingForProvider(wait) = done.outcome else {
        panic!("expected a wait, got {:?}", done.outcome)
    };
    assert!(wait <= Duration::from_millis(150), "{wait:?}");
    let book = h.store.book("y1");
    assert_eq!(book.status, Some(BookStatus::Paused));
    assert_eq!(book.reason.as_deref(), Some("provider_unavailable"));
    // Scheduled again while still down: waits again, without flapping the status.
    tokio::time::sleep(wait).await;
    h.start("y1", None).await;
    assert!(matches!(
        h.outcome(Duration::from_secs(5)).await.outcome,
        BookOutcome::WaitingForProvider(_)
    ));
    let pauses = h
        .store
        .book("y1")
        .statuses
        .iter()
        .filter(|(s, _)| *s != BookStatus::Paused)
        .count();
    assert_eq!(pauses, 1, "{:?}", h.store.book("y1").statuses);
    *h.llm.failing.lock().unwrap() = None;
    tokio::time::sleep(Duration::from_millis(400)).await;
    h.start("y1", None).await;
    assert_eq!(
        h.outcome(Duration::from_secs(5)).await.outcome,
        BookOutcome::Completed
    );
    assert_eq!(h.store.book("y1").commit_log, vec![1, 2]);
}

/// Before: `pause_turn` was taken as the end, and half a chunk was saved as complete.
#[actix::test]
async fn pause_turn_is_continued_not_saved_as_the_end() {
    let mut h = Harness::new(ScriptLlm::default(), fast_config());
    h.store.add_book("s1", architecture(1, 500));
    h.llm.script(
        1,
        vec![Step::Stop("The first half, ".into(), StopReason::PauseTurn)],
    );
    h.start("s1", None).await;
    assert_eq!(
        h.outcome(Duration::from_secs(5)).await.outcome,
        BookOutcome::Completed
    );
    let reqs = h.llm.chunk_requests(1);
    assert_eq!(reqs.len(), 2, "the paused turn is continued");
    let last = reqs[1].1.messages.last().expect("messages");
    assert_eq!(
        (last.role, last.content.as_str()),
        (Role::Assistant, "The first half, ")
    );
    let text = &h.store.book("s1").chunks[&1].1;
    assert_eq!(
        *text,
        format!("The first half, {}", chunk_text(1, 5).concat())
    );
}

/// Before: `model_context_window_exceeded` was success and the cut text was saved.
#[actix::test]
async fn context_window_exceeded_fails_the_chunk_with_a_reason() {
    let mut h = Harness::new(ScriptLlm::default(), fast_config());
    h.store.add_book("s2", architecture(1, 500));
    h.llm.script(
        1,
        vec![Step::Stop(
            "Cut short".into(),
            StopReason::ContextWindowExceeded,
        )],
    );
    h.start("s2", None).await;
    let BookOutcome::Failed(reason) = h.outcome(Duration::from_secs(5)).await.outcome else {
        panic!("expected a failure")
    };
    assert!(reason.contains("context window"), "{reason}");
    assert!(h.store.book("s2").chunks.is_empty());
}

/// Before: an unknown stop reason (here `tool_use`) was success.
#[actix::test]
async fn unknown_stop_reason_is_never_a_finished_chunk() {
    let mut h = Harness::new(ScriptLlm::default(), fast_config());
    h.store.add_book("s3", architecture(1, 500));
    h.llm.script(
        1,
        vec![Step::Stop(
            "Half".into(),
            StopReason::Other("tool_use".into()),
        )],
    );
    h.start("s3", None).await;
    assert_eq!(
        h.outcome(Duration::from_secs(5)).await.outcome,
        BookOutcome::Completed
    );
    assert_eq!(h.llm.chunk_requests(1).len(), 2, "retried");
    assert_eq!(h.store.book("s3").chunks[&1].1, chunk_text(1, 5).concat());
}

/// Before: a broken attempt was recorded with zero usage, and after a crash `book_completed` reported
/// only the last run's tokens.
#[actix::test]
async fn every_attempt_is_billed_and_book_completed_reports_the_books_totals() {
    let mut h = Harness::new(ScriptLlm::default(), fast_config());
    h.store.add_book("u1", architecture(2, 500));
    // 800 chars streamed before the break: ≈ 200 output tokens.
    h.llm.script(1, vec![Step::Broken("x".repeat(800), 1234)]);
    // A crash in the middle: the supervisor restarts the run, which continues from chunk 2.
    h.llm.script(2, vec![Step::Panic]);
    h.start("u1", None).await;
    assert_eq!(
        h.outcome(Duration::from_secs(5)).await.outcome,
        BookOutcome::Completed
    );
    let calls = h.store.calls.lock().unwrap().clone();
    let broken = calls
        .iter()
        .find(|c| c.status == "temporary")
        .expect("the broken attempt is recorded");
    assert_eq!(broken.usage.input_tokens, 1234);
    assert_eq!(broken.usage.output_tokens, 200);
    assert!(broken.cost_usd > 0.0);
    let book = h.store.book("u1");
    let completed = book.events.last().expect("events");
    assert_eq!(completed.kind, "book_completed");
    let input: u64 = calls.iter().map(|c| c.usage.input_tokens).sum();
    assert_eq!(
        completed.data["usage"]["input_tokens"].as_u64(),
        Some(input)
    );
    assert_eq!(book.spent.input_tokens, input);
}
