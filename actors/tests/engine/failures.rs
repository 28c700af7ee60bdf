//! Provider trouble: rate limits and overload honoured and retried, the breaker pausing and resuming
//! books, permanent errors failing at once, stalls aborted and retried.

use std::time::Duration;

use buko_actors::*;

use crate::helpers::*;
use crate::llm::{ScriptLlm, Step};

fn temporary(kind: LlmErrorKind, retry_after_ms: Option<u64>) -> LlmError {
    LlmError::Temporary {
        kind,
        message: format!("injected {kind}"),
        retry_after: retry_after_ms.map(Duration::from_millis),
    }
}

#[actix::test]
async fn rate_limit_and_overload_are_retried_no_sooner_than_told() {
    let mut h = Harness::new(ScriptLlm::default(), fast_config());
    h.store.add_book("r1", architecture(2, 500));
    h.llm.script(
        1,
        vec![
            Step::Fail(temporary(LlmErrorKind::RateLimited, Some(300))),
            Step::Fail(temporary(LlmErrorKind::Overloaded, Some(200))),
        ],
    );
    h.start("r1", None).await;
    assert_eq!(
        h.outcome(Duration::from_secs(5)).await.outcome,
        BookOutcome::Completed
    );
    let reqs = h.llm.chunk_requests(1);
    assert_eq!(reqs.len(), 3);
    let (gap1, gap2) = (reqs[1].0 - reqs[0].0, reqs[2].0 - reqs[1].0);
    assert!(
        gap1 >= Duration::from_millis(300),
        "retried after {gap1:?}, retry-after was 300 ms"
    );
    assert!(
        gap2 >= Duration::from_millis(200),
        "retried after {gap2:?}, retry-after was 200 ms"
    );
    let calls = h.store.calls.lock().unwrap().clone();
    let kinds: Vec<_> = calls.iter().filter_map(|c| c.error_kind).collect();
    assert_eq!(
        kinds,
        vec![LlmErrorKind::RateLimited, LlmErrorKind::Overloaded],
        "failed calls are recorded"
    );
}

#[actix::test]
async fn open_breaker_pauses_books_which_resume_when_the_provider_recovers() {
    let mut config = fast_config();
    config.retry.max_attempts = 50; // the breaker, not the attempt limit, must stop the calls
    let mut h = Harness::new(ScriptLlm::default(), config);
    for b in ["p1", "p2"] {
        h.store.add_book(b, architecture(3, 500));
    }
    *h.llm.failing.lock().unwrap() = Some(temporary(LlmErrorKind::Overloaded, None));
    h.start("p1", None).await;
    h.start("p2", None).await;
    let store = h.store.clone();
    let paused = |b: &str| {
        let book = store.book(b);
        book.status == Some(BookStatus::Paused)
            && book.reason.as_deref() == Some("provider_unavailable")
    };
    wait_until(Duration::from_secs(3), "both books paused", || {
        paused("p1") && paused("p2")
    })
    .await;
    // While open, (almost) no calls reach the provider: only half-open trials every cool-down.
    let calls_when_open = h.llm.requests.lock().unwrap().len();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let trials = h.llm.requests.lock().unwrap().len() - calls_when_open;
    assert!(trials <= 10, "{trials} calls while the breaker was open");
    assert!(h
        .store
        .book("p1")
        .events
        .iter()
        .any(|e| e.kind == "status" && e.data["reason"] == "provider_unavailable"));

    *h.llm.failing.lock().unwrap() = None;
    let mut outcomes = [
        h.outcome(Duration::from_secs(5)).await,
        h.outcome(Duration::from_secs(5)).await,
    ];
    outcomes.sort_by(|a, b| a.book_id.cmp(&b.book_id));
    assert!(outcomes.iter().all(|o| o.outcome == BookOutcome::Completed));
    for b in ["p1", "p2"] {
        let book = h.store.book(b);
        let statuses: Vec<_> = book.statuses.iter().map(|(s, _)| *s).collect();
        let resumed = statuses
            .windows(2)
            .any(|w| w == [BookStatus::Paused, BookStatus::Generating]);
        assert!(resumed, "{b} went back to generating: {statuses:?}");
        let pauses = book
            .statuses
            .iter()
            .filter(|(s, _)| *s == BookStatus::Paused)
            .count();
        assert_eq!(
            pauses, 1,
            "failed half-open trials do not flap the status: {statuses:?}"
        );
        assert_eq!(book.commit_log, vec![1, 2, 3]);
        assert_strictly_increasing(&book.events);
    }
}

#[actix::test]
async fn exhausted_retries_pause_the_book_with_the_reason() {
    let mut config = fast_config();
    config.breaker.consecutive_failures = 100;
    config.breaker.min_calls = 100;
    config.retry.max_attempts = 3;
    let mut h = Harness::new(ScriptLlm::default(), config);
    h.store.add_book("x1", architecture(2, 500));
    h.llm.script(
        1,
        vec![Step::Fail(temporary(LlmErrorKind::Server, None)); 3],
    );
    h.start("x1", None).await;
    let done = h.outcome(Duration::from_secs(5)).await;
    let BookOutcome::Paused(reason) = done.outcome else {
        panic!("expected a pause, got {:?}", done.outcome)
    };
    assert!(
        reason.contains("3 attempts") && reason.contains("server"),
        "{reason}"
    );
    assert_eq!(h.store.book("x1").status, Some(BookStatus::Paused));
    assert_eq!(h.llm.chunk_requests(1).len(), 3);
}

#[actix::test]
async fn permanent_error_fails_the_book_without_retry() {
    let mut h = Harness::new(ScriptLlm::default(), fast_config());
    h.store.add_book("f1", architecture(3, 500));
    h.llm.script(
        2,
        vec![Step::Fail(LlmError::permanent(
            LlmErrorKind::Authentication,
            "invalid x-api-key",
        ))],
    );
    h.start("f1", None).await;
    let done = h.outcome(Duration::from_secs(5)).await;
    let BookOutcome::Failed(reason) = done.outcome else {
        panic!("expected a failure, got {:?}", done.outcome)
    };
    assert!(
        reason.contains("invalid x-api-key") && reason.contains("chunk 2"),
        "{reason}"
    );
    let book = h.store.book("f1");
    assert_eq!(book.status, Some(BookStatus::Failed));
    assert_eq!(book.reason.as_deref(), Some(reason.as_str()));
    assert!(book.events.iter().any(|e| e.kind == "error"));
    assert_eq!(h.llm.chunk_requests(2).len(), 1, "no retry");
    assert_eq!(book.commit_log, vec![1]);
}

#[actix::test]
async fn stalled_stream_is_aborted_and_retried() {
    let mut h = Harness::new(ScriptLlm::default(), fast_config());
    h.store.add_book("s1", architecture(2, 500));
    h.llm
        .script(1, vec![Step::Stall("A beginning that never ends".into())]);
    h.start("s1", None).await;
    assert_eq!(
        h.outcome(Duration::from_secs(5)).await.outcome,
        BookOutcome::Completed
    );
    let reqs = h.llm.chunk_requests(1);
    assert_eq!(reqs.len(), 2);
    assert!(reqs[1].0 - reqs[0].0 >= fast_config().stall_timeout);
    let book = h.store.book("s1");
    assert!(
        !book.chunks[&1].1.contains("never ends"),
        "the stalled text is not kept"
    );
    let stalled = h
        .store
        .calls
        .lock()
        .unwrap()
        .iter()
        .any(|c| c.error_kind == Some(LlmErrorKind::Stalled));
    assert!(stalled);
}

#[actix::test]
async fn fenced_store_stops_quietly_without_writing_status() {
    let mut h = Harness::new(ScriptLlm::default(), fast_config());
    h.store.add_book("z1", architecture(3, 500));
    h.store.books.lock().unwrap().get_mut("z1").unwrap().fence = Fence(5); // another node took over
    h.start("z1", None).await;
    assert_eq!(
        h.outcome(Duration::from_secs(5)).await.outcome,
        BookOutcome::Fenced
    );
    let book = h.store.book("z1");
    assert!(book.statuses.is_empty() && book.events.is_empty() && book.commit_log.is_empty());
}

#[actix::test]
async fn unavailable_store_is_retried() {
    let mut h = Harness::new(ScriptLlm::default(), fast_config());
    h.store.add_book("u1", architecture(2, 500));
    h.store
        .unavailable
        .store(5, std::sync::atomic::Ordering::SeqCst);
    h.start("u1", None).await;
    assert_eq!(
        h.outcome(Duration::from_secs(5)).await.outcome,
        BookOutcome::Completed
    );
    assert_eq!(h.store.book("u1").commit_log, vec![1, 2]);
}

#[actix::test]
async fn architecture_is_generated_repaired_and_accounted() {
    let h = Harness::new(ScriptLlm::default(), fast_config());
    let req = ArchitectureRequest {
        idea: "An idea".into(),
        target_pages: 50,
        ..ArchitectureRequest::default()
    };
    let result = h
        .engine
        .supervisor
        .send(GenerateArchitecture(req))
        .await
        .unwrap()
        .expect("architecture");
    assert_eq!(result.architecture.title, "T");
    // The model's 500 words are scaled to fill the 50 pages asked for.
    assert_eq!(
        result.architecture.chapters[0].target_words,
        layout::words_for_pages(50, 1, Language::En)
    );
    assert_eq!(result.calls.len(), 1);
    assert_eq!(result.usage.output_tokens, 50);

    // An unusable answer is re-asked with the error fed back; a half-parsed one is never returned.
    h.llm
        .architecture_answers
        .lock()
        .unwrap()
        .push_back(r#"Here you go: {"subtitle":"no title"}"#.into());
    let req = ArchitectureRequest {
        idea: "Another".into(),
        target_pages: 50,
        ..ArchitectureRequest::default()
    };
    let result = h
        .engine
        .supervisor
        .send(GenerateArchitecture(req.clone()))
        .await
        .unwrap()
        .expect("repaired");
    assert_eq!(result.calls.len(), 2);
    let last = h.llm.requests.lock().unwrap().last().unwrap().1.clone();
    let feedback = &last.messages.last().unwrap().content;
    assert!(
        feedback.contains("not usable") && feedback.contains("title"),
        "{feedback}"
    );

    let bad = || r#"{"title":"","chapters":[]}"#.to_string();
    h.llm
        .architecture_answers
        .lock()
        .unwrap()
        .extend([bad(), bad(), bad()]);
    let failure = h
        .engine
        .supervisor
        .send(GenerateArchitecture(req))
        .await
        .unwrap()
        .expect_err("never valid");
    assert!(
        matches!(failure, ArchitectureFailure::Invalid(_)),
        "{failure:?}"
    );
}

#[actix::test]
async fn store_down_longer_than_its_retries_restarts_the_run() {
    let mut h = Harness::new(ScriptLlm::default(), fast_config());
    h.store.add_book("u2", architecture(2, 500));
    // More failures in a row than one call's retries (10): the run stops and is restarted.
    h.store
        .unavailable
        .store(15, std::sync::atomic::Ordering::SeqCst);
    h.start("u2", None).await;
    assert_eq!(
        h.outcome(Duration::from_secs(5)).await.outcome,
        BookOutcome::Completed
    );
    assert_eq!(h.store.book("u2").commit_log, vec![1, 2]);
}

#[actix::test]
async fn chunk_hard_timeout_aborts_a_slow_but_steady_stream() {
    let mut config = fast_config();
    config.chunk_timeout = Duration::from_millis(100);
    config.retry.max_attempts = 2;
    // 20 deltas 20 ms apart: never stalls, but takes 400 ms.
    let llm = ScriptLlm {
        delta_every: Duration::from_millis(20),
        deltas_per_chunk: 20,
        ..ScriptLlm::default()
    };
    let mut h = Harness::new(llm, config);
    h.store.add_book("t1", architecture(1, 500));
    h.start("t1", None).await;
    let done = h.outcome(Duration::from_secs(5)).await;
    let BookOutcome::Paused(reason) = done.outcome else {
        panic!("expected a pause, got {:?}", done.outcome)
    };
    assert!(reason.contains("timeout"), "{reason}");
    assert_eq!(
        h.llm.chunk_requests(1).len(),
        2,
        "the timed-out chunk was retried"
    );
    assert!(h.store.book("t1").commit_log.is_empty());
}
