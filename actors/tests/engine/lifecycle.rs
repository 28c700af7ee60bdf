//! A book's life: completion, crash and restart, continuation, cancel / pause / resume, regeneration,
//! bounded prompts.

use std::time::Duration;

use buko_actors::*;

use crate::helpers::*;
use crate::llm::{chunk_text, ScriptLlm, Step};

#[actix::test]
async fn six_chapter_book_completes_in_order_exactly_once() {
    // 300 words per chapter, 300 tokens per response → 180 words per chunk: two parts per chapter.
    let mut h = Harness::new(
        ScriptLlm {
            max_output: 300,
            ..ScriptLlm::default()
        },
        fast_config(),
    );
    h.store.add_book("b1", architecture(6, 300));
    let watched = collect(&h.engine.broadcaster, Topic::Book("b1".into())).await;
    let owner = collect(&h.engine.broadcaster, Topic::User("user-of-b1".into())).await;
    h.start("b1", None).await;
    let done = h.outcome(Duration::from_secs(10)).await;
    assert_eq!(done.outcome, BookOutcome::Completed);

    let book = h.store.book("b1");
    assert_eq!(
        book.commit_log,
        (1..=12).collect::<Vec<_>>(),
        "each chunk committed once, in order"
    );
    assert_eq!(book.plan_total, Some(12));
    assert_eq!(book.status, Some(BookStatus::Completed));
    assert_eq!(
        book.chunks[&3].1,
        chunk_text(3, 5).concat(),
        "the saved chunk is the streamed text"
    );
    assert_eq!(book.chunks[&3].0.chapter_index, 1);
    assert_eq!(
        book.summaries.keys().copied().collect::<Vec<_>>(),
        vec![0, 1, 2, 3, 4]
    );
    assert_strictly_increasing(&book.events);
    let kinds = event_kinds(&book.events);
    assert_eq!(kinds.first().map(String::as_str), Some("status"));
    assert_eq!(kinds.last().map(String::as_str), Some("book_completed"));
    assert_eq!(kinds.iter().filter(|k| *k == "chunk_completed").count(), 12);
    assert_eq!(
        kinds.iter().filter(|k| *k == "chapter_completed").count(),
        6
    );
    // Usage is recorded per call and totalled for the book.
    let calls = h.store.calls.lock().unwrap().clone();
    assert_eq!(
        calls
            .iter()
            .filter(|c| c.purpose == CallPurpose::Chunk)
            .count(),
        12
    );
    assert_eq!(
        calls
            .iter()
            .filter(|c| c.purpose == CallPurpose::Summary)
            .count(),
        5
    );
    let count = |p: CallPurpose| calls.iter().filter(|c| c.purpose == p).count();
    assert_eq!(
        count(CallPurpose::Ledger),
        5,
        "a ledger per chapter but the last"
    );
    assert_eq!(count(CallPurpose::Audit), 6, "an audit per chapter");
    assert!(calls
        .iter()
        .all(|c| c.status == "ok" && c.cost_usd > 0.0 && c.book_id.as_deref() == Some("b1")));
    let total = book.events.last().unwrap().data["usage"]["output_tokens"].as_u64();
    assert_eq!(total, Some((12 + 5 + 5 + 6) * 50));

    // Watchers got every durable event, in order, with the store's seqs; and all the streamed text.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let msgs = messages(&watched);
    let seqs: Vec<i64> = msgs
        .iter()
        .filter_map(|m| {
            if let ProgressMessage::Event { seq, .. } = m {
                Some(*seq)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(seqs, book.events.iter().map(|e| e.seq).collect::<Vec<_>>());
    assert_eq!(streamed(&msgs, 3), book.chunks[&3].1);
    assert_eq!(
        messages(&owner).len(),
        book.events.len(),
        "the owner's topic gets the book's events"
    );
}

#[actix::test]
async fn crash_mid_chunk_is_restarted_without_loss_or_duplicate() {
    let mut h = Harness::new(ScriptLlm::default(), fast_config());
    h.store.add_book("b2", architecture(5, 500));
    // A crash while committing chunk 3 (the store panics), and one inside the stream of chunk 4.
    h.store
        .panic_on_commit
        .lock()
        .unwrap()
        .insert(("b2".into(), 3));
    h.llm.script(4, vec![Step::Panic]);
    h.start("b2", None).await;
    let done = h.outcome(Duration::from_secs(10)).await;
    assert_eq!(done.outcome, BookOutcome::Completed);
    let book = h.store.book("b2");
    assert_eq!(book.commit_log, vec![1, 2, 3, 4, 5]);
    assert_eq!(
        h.llm.chunk_requests(3).len(),
        2,
        "chunk 3 was written again after the crash"
    );
    assert_eq!(h.llm.chunk_requests(4).len(), 2);
    assert_eq!(
        h.llm.chunk_requests(2).len(),
        1,
        "committed chunks are not rewritten"
    );
    assert_strictly_increasing(&book.events);
    let running = h.engine.supervisor.send(RunningBooks).await.unwrap();
    assert!(running.is_empty());
}

#[actix::test]
async fn max_tokens_stop_is_continued_and_saved_whole() {
    let mut h = Harness::new(ScriptLlm::default(), fast_config());
    h.store.add_book("b3", architecture(2, 500));
    h.llm.script(
        2,
        vec![
            Step::MaxTokens("The first half, ".into()),
            Step::Text("and the second half.".into()),
        ],
    );
    h.start("b3", None).await;
    assert_eq!(
        h.outcome(Duration::from_secs(5)).await.outcome,
        BookOutcome::Completed
    );
    assert_eq!(
        h.store.book("b3").chunks[&2].1,
        "The first half, and the second half."
    );
    let reqs = h.llm.chunk_requests(2);
    assert_eq!(reqs.len(), 2);
    let cont = &reqs[1].1;
    assert!(cont.context.continuation);
    let last = cont.messages.last().unwrap();
    assert_eq!(
        (last.role, last.content.as_str()),
        (Role::Assistant, "The first half, ")
    );
}

#[actix::test]
async fn a_summary_cut_by_max_tokens_is_used_as_it_is() {
    let llm = ScriptLlm {
        verbose_summaries: true,
        ..ScriptLlm::default()
    };
    let mut h = Harness::new(llm, fast_config());
    h.store.add_book("bs", architecture(3, 500));
    h.start("bs", None).await;
    assert_eq!(
        h.outcome(Duration::from_secs(5)).await.outcome,
        BookOutcome::Completed
    );
    let summaries: Vec<CompletionRequest> = h
        .llm
        .requests
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, r)| r.purpose == CallPurpose::Summary)
        .map(|(_, r)| r.clone())
        .collect();
    assert_eq!(
        summaries.len(),
        2,
        "one summary per chapter but the last, none continued"
    );
    assert!(summaries.iter().all(|r| !r.context.continuation));
    assert!(
        !h.store.book("bs").summaries.is_empty(),
        "the cut summaries were saved"
    );
}

#[actix::test]
async fn cancel_stops_writing_promptly() {
    let llm = ScriptLlm {
        delta_every: Duration::from_millis(40),
        deltas_per_chunk: 50,
        ..ScriptLlm::default()
    };
    let mut h = Harness::new(llm, fast_config());
    h.store.add_book("b4", architecture(4, 500));
    h.start("b4", None).await;
    let store = h.store.clone();
    wait_until(Duration::from_secs(3), "chunk 1 streaming", || {
        store
            .book("b4")
            .events
            .iter()
            .any(|e| e.kind == "chunk_started")
    })
    .await;
    let t0 = tokio::time::Instant::now();
    assert!(h.stop("b4", Control::Cancel).await);
    let done = h.outcome(Duration::from_secs(2)).await;
    assert!(
        t0.elapsed() < Duration::from_millis(300),
        "cancel took {:?}",
        t0.elapsed()
    );
    assert_eq!(done.outcome, BookOutcome::Cancelled);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let book = h.store.book("b4");
    assert!(book.commit_log.is_empty(), "nothing committed after cancel");
    assert_eq!(book.status, Some(BookStatus::Cancelled));
    assert_eq!(
        h.llm.requests.lock().unwrap().len(),
        1,
        "no call after cancel"
    );
}

#[actix::test]
async fn pause_then_resume_continues_from_the_next_chunk() {
    let llm = ScriptLlm {
        delta_every: Duration::from_millis(5),
        ..ScriptLlm::default()
    };
    let mut h = Harness::new(llm, fast_config());
    h.store.add_book("b5", architecture(6, 500));
    h.start("b5", None).await;
    // The author pauses through the store's flag (as from another node): honoured between chunks.
    let store = h.store.clone();
    wait_until(Duration::from_secs(3), "two chunks", || {
        store.book("b5").commit_log.len() >= 2
    })
    .await;
    h.store.set_control("b5", Control::Pause);
    let done = h.outcome(Duration::from_secs(2)).await;
    assert_eq!(
        done.outcome,
        BookOutcome::Paused("paused by the author".into())
    );
    let paused = h.store.book("b5");
    assert_eq!(paused.status, Some(BookStatus::Paused));
    let written = paused.commit_log.len() as i64;
    assert!((2..6).contains(&written));

    // Resume: a new run continues with the next chunk.
    h.store.set_control("b5", Control::Run);
    let before = h.llm.requests.lock().unwrap().len();
    h.start("b5", None).await;
    assert_eq!(
        h.outcome(Duration::from_secs(5)).await.outcome,
        BookOutcome::Completed
    );
    let first_chunk_after = h.llm.requests.lock().unwrap()[before..]
        .iter()
        .find(|(_, r)| r.purpose == CallPurpose::Chunk)
        .and_then(|(_, r)| r.context.seq);
    assert_eq!(first_chunk_after, Some(written + 1));
    let book = h.store.book("b5");
    assert_eq!(book.commit_log, (1..=6).collect::<Vec<_>>());
    assert_strictly_increasing(&book.events);

    // A direct pause message stops a running book at once, mid-chunk.
    h.store.add_book("b5b", architecture(3, 500));
    *h.llm.failing.lock().unwrap() = None;
    h.start("b5b", None).await;
    assert!(h.stop("b5b", Control::Pause).await);
    assert_eq!(
        h.outcome(Duration::from_secs(1)).await.outcome,
        BookOutcome::Paused("paused by the author".into())
    );
}

#[actix::test]
async fn regenerating_a_chapter_rewrites_it_and_refreshes_later_summaries() {
    let mut h = Harness::new(ScriptLlm::default(), fast_config());
    h.store.add_book("b6", architecture(4, 500));
    h.start("b6", None).await;
    assert_eq!(
        h.outcome(Duration::from_secs(5)).await.outcome,
        BookOutcome::Completed
    );
    h.llm
        .script(2, vec![Step::Text("A new chapter two.".into())]);
    h.start("b6", Some(1)).await;
    assert_eq!(
        h.outcome(Duration::from_secs(5)).await.outcome,
        BookOutcome::Completed
    );
    let book = h.store.book("b6");
    assert_eq!(book.chunks[&2].1, "A new chapter two.");
    assert_eq!(book.commit_log, vec![1, 2, 3, 4, 2]);
    assert_eq!(h.llm.chunk_requests(3).len(), 1, "other chapters are kept");
    assert_eq!(book.summaries.len(), 3);
    assert_strictly_increasing(&book.events);
}

#[actix::test]
async fn prompt_stays_bounded_for_a_sixty_chapter_book() {
    let llm = ScriptLlm {
        summary_chars: 20_000,
        ..ScriptLlm::default()
    };
    let mut h = Harness::new(llm, fast_config());
    let mut book = architecture(60, 500);
    for (i, ch) in book.chapters.iter_mut().enumerate() {
        ch.title =
            format!("Chapter {i}, in which a long and winding title goes on and on for a while");
    }
    h.store.add_book("b7", book);
    h.start("b7", None).await;
    assert_eq!(
        h.outcome(Duration::from_secs(20)).await.outcome,
        BookOutcome::Completed
    );
    let size = |seq: i64| {
        let (_, r) = &h.llm.chunk_requests(seq)[0];
        r.system.len() + r.messages.iter().map(|m| m.content.len()).sum::<usize>()
    };
    let (p2, p60) = (size(2), size(60));
    let cfg = fast_config();
    // Both carry a full rolling summary (cut to size); nothing in chunk 60 grows with the book.
    assert!(
        p60 <= p2 + 1_000,
        "chunk 60 prompt {p60} vs chunk 2 prompt {p2}"
    );
    // The outline lists every title (the cacheable prefix) but is cut at 8 kB, the summary and tail
    // at their sizes: the prompt has a fixed ceiling whatever the book's length.
    assert!(p60 < 14_000, "chunk 60 prompt is {p60} bytes");
    assert!(h
        .store
        .book("b7")
        .summaries
        .values()
        .all(|s| s.chars().count() <= cfg.summary_chars + 1));
}

#[actix::test]
async fn cancel_while_a_restart_is_pending_is_recorded_without_writing() {
    let mut config = fast_config();
    config.restart_backoff = Duration::from_millis(300);
    let mut h = Harness::new(ScriptLlm::default(), config);
    h.store.add_book("b8", architecture(2, 500));
    h.store
        .panic_on_commit
        .lock()
        .unwrap()
        .insert(("b8".into(), 1));
    h.start("b8", None).await;
    let sup = h.engine.supervisor.clone();
    let mut restarting = false;
    for _ in 0..100 {
        restarting = sup
            .send(RunningBooks)
            .await
            .unwrap()
            .first()
            .is_some_and(|r| r.restarts == 1);
        if restarting {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(restarting, "the crash was noticed");
    assert!(h.stop("b8", Control::Cancel).await);
    assert_eq!(
        h.outcome(Duration::from_secs(2)).await.outcome,
        BookOutcome::Cancelled
    );
    tokio::time::sleep(Duration::from_millis(400)).await; // past the pending restart
    let book = h.store.book("b8");
    assert!(book.commit_log.is_empty());
    assert_eq!(book.status, Some(BookStatus::Cancelled));
    assert_eq!(
        h.llm.chunk_requests(1).len(),
        1,
        "nothing written after the cancel"
    );
}
