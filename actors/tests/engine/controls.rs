//! The author's flag read by the node's control watch: one store read a poll for every running book,
//! and a flag set as from another node stops its book mid-chunk.

use std::sync::atomic::Ordering;
use std::time::Duration;

use buko_actors::*;

use crate::helpers::*;
use crate::llm::ScriptLlm;

#[actix::test]
async fn one_control_read_a_poll_for_every_running_book_stops_a_flagged_one_mid_chunk() {
    // Chunks of 2 s (deltas every 100 ms, under the stall timeout): every stop below lands mid-chunk.
    let llm = ScriptLlm {
        delta_every: Duration::from_millis(100),
        deltas_per_chunk: 20,
        ..ScriptLlm::default()
    };
    let mut config = fast_config();
    config.control_poll = Duration::from_millis(50);
    let mut h = Harness::new(llm, config);
    let ids = ["w0", "w1", "w2", "w3"];
    for id in ids {
        h.store.add_book(id, architecture(2, 500));
        h.start(id, None).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let reads = |h: &Harness| {
        (
            h.store.control_reads.load(Ordering::Relaxed),
            h.store.controls_reads.load(Ordering::Relaxed),
        )
    };
    let (one0, many0) = reads(&h);
    let t0 = tokio::time::Instant::now();
    // Set as from another node: only the store's flag, no message.
    h.store.set_control("w1", Control::Pause);
    let done = h.outcome(Duration::from_secs(1)).await;
    assert_eq!(done.book_id, "w1");
    assert_eq!(
        done.outcome,
        BookOutcome::Paused("paused by the author".into())
    );
    assert!(
        t0.elapsed() < Duration::from_millis(400),
        "{:?}",
        t0.elapsed()
    );
    assert!(
        h.store.book("w1").commit_log.is_empty(),
        "stopped mid-chunk"
    );
    tokio::time::sleep(Duration::from_millis(600) - t0.elapsed().min(Duration::from_millis(600)))
        .await;
    let (one1, many1) = reads(&h);
    let window = t0.elapsed().as_millis() as u32;
    // One read for all the books each 50 ms tick (about 12 here), not one per book per tick (48).
    assert!(
        (window / 50 / 2..=window / 50 + 2).contains(&(many1 - many0)),
        "{} watch reads in {window} ms",
        many1 - many0
    );
    assert!(one1 - one0 <= 2, "{} single-book reads", one1 - one0);
    for id in ["w0", "w2", "w3"] {
        assert!(h.stop(id, Control::Cancel).await);
    }
    for _ in 0..3 {
        assert_eq!(
            h.outcome(Duration::from_secs(1)).await.outcome,
            BookOutcome::Cancelled
        );
    }
}
