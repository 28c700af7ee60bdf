//! A book's cost limit and the length check, against the scripted model (priced $3 / $15 a million).

use std::time::Duration;

use buko_actors::*;

use crate::helpers::*;
use crate::llm::{ScriptLlm, Step};

#[actix::test]
async fn a_budget_pauses_before_the_call_that_could_pass_it() {
    let mut h = Harness::new(ScriptLlm::default(), fast_config());
    // 4 chapters of 1000 words: each chunk may cost ≈ 1000 / 0.75 × 1.15 tokens × $15/M ≈ $0.024
    // (and costs $0.001): the first fits in $0.025, the second no longer does.
    h.store.add_book("b1", architecture(4, 1000));
    h.store.with_state("b1", |b| b.budget_usd = Some(0.025));
    h.start("b1", None).await;
    let done = h.outcome(Duration::from_secs(10)).await;
    assert_eq!(
        done.outcome,
        BookOutcome::Paused(BUDGET_REACHED.to_string())
    );
    let book = h.store.book("b1");
    assert_eq!(
        book.statuses.last(),
        Some(&(BookStatus::Paused, Some(BUDGET_REACHED.to_string())))
    );
    assert!(
        !book.chunks.is_empty() && book.chunks.len() < 4,
        "{:?}",
        book.commit_log
    );
    assert!(book.spent_usd <= 0.025, "spent {}", book.spent_usd);

    // Raised, the next run writes the rest.
    h.store.with_state("b1", |b| b.budget_usd = Some(5.0));
    h.start("b1", None).await;
    let done = h.outcome(Duration::from_secs(10)).await;
    assert_eq!(done.outcome, BookOutcome::Completed);
    assert_eq!(h.store.book("b1").chunks.len(), 4);
}

fn words(n: usize, tag: &str) -> String {
    (0..n)
        .map(|i| format!("{tag}{i}{}", if i % 10 == 9 { "." } else { "" }))
        .collect::<Vec<_>>()
        .join(" ")
}

#[actix::test]
async fn short_chunks_are_extended_and_long_ones_cut_at_a_sentence() {
    let config = EngineConfig {
        length_extensions: 3,
        ..fast_config()
    };
    let mut h = Harness::new(ScriptLlm::default(), config);
    h.store.add_book("b1", architecture(2, 100));
    // Chunk 1 answers 50 words, then 40 more when asked to extend; chunk 2 answers 160.
    h.llm.script(
        1,
        vec![Step::Text(words(50, "a")), Step::Text(words(40, "b"))],
    );
    h.llm.script(2, vec![Step::Text(words(160, "c"))]);
    let watched = collect(&h.engine.broadcaster, Topic::Book("b1".into())).await;
    h.start("b1", None).await;
    let done = h.outcome(Duration::from_secs(10)).await;
    assert_eq!(done.outcome, BookOutcome::Completed);
    let book = h.store.book("b1");
    let first = &book.chunks[&1].1;
    assert_eq!(first.split_whitespace().count(), 90, "{first}");
    assert!(
        first.starts_with("a0 ") && first.contains("a49. b0 b1"),
        "{first}"
    );
    // Watchers saw the saved text: the space joining the extension came before it, not after
    // ("a49.b0 … b39 " once streamed, a word short).
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(&streamed(&messages(&watched), 1), first);
    let extension = h.llm.chunk_requests(1);
    assert_eq!(extension.len(), 2, "one extension reached 85 %");
    let ask = &extension[1].1;
    assert!(ask.messages[0].content.contains("about 50 more words"));
    assert_eq!(ask.messages.last().map(|m| m.role), Some(Role::Assistant));
    let second = &book.chunks[&2].1;
    assert_eq!(
        second.split_whitespace().count(),
        100,
        "cut at the sentence ending word 100"
    );
    assert!(second.ends_with("c99."), "{second}");
    assert_eq!(book.chunks[&2].0.words, 100);
}
