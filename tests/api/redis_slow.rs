//! Issue 20: Redis being slow for a moment degrades latency, never completeness. With Redis paused for
//! 3 s (`CLIENT PAUSE`, as `DEBUG SLEEP` does) while one node publishes progress, the other node still
//! receives every message, and one slow call does not declare Redis down.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use buko::bus::redis::Redis;
use buko::bus::{start_relay, RedisProgressSink};
use buko_actors::ProgressMessage;
use buko_actors::ProgressSink;

use crate::redis_support::PrivateRedis;

fn delta(offset: usize) -> ProgressMessage {
    ProgressMessage::Delta {
        book_id: "slow-book".into(),
        chunk_seq: 1,
        offset,
        text: "x".into(),
    }
}

/// Before: the publish that timed out after 1.5 s marked Redis down for ≥ 2 s and every message
/// queued meanwhile was dropped (offsets missing at the other node).
#[actix_web::test]
async fn a_three_second_redis_pause_loses_no_progress_message_between_nodes() {
    let server = PrivateRedis::start();
    let writer = Redis::connect_lazy(&server.url()).expect("redis");
    let watcher = Redis::connect_lazy(&server.url()).expect("redis");
    let channel = "buko:progress:slow";
    let got: Arc<Mutex<Vec<ProgressMessage>>> = Arc::default();
    let g = got.clone();
    let relay = start_relay(watcher.clone(), "node-b", channel, move |m| {
        g.lock().expect("inbox").push(m)
    });
    // Wait for the subscription.
    let start = Instant::now();
    loop {
        let mut c = writer.connection().await.expect("conn");
        let (_, n): (String, i64) = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(channel)
            .query_async(&mut c)
            .await
            .expect("numsub");
        if n >= 1 {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "no subscriber");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let sink = RedisProgressSink::start(writer.clone(), "node-a", channel);
    const N: usize = 60;
    let mut paused = false;
    for i in 0..N {
        if i == 10 && !paused {
            paused = true;
            let mut c = redis::Client::open(server.url())
                .expect("client")
                .get_multiplexed_async_connection()
                .await
                .expect("conn");
            let _: () = redis::cmd("CLIENT")
                .arg("PAUSE")
                .arg(3000)
                .arg("ALL")
                .query_async(&mut c)
                .await
                .expect("CLIENT PAUSE");
        }
        sink.publish(&delta(i));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let start = Instant::now();
    loop {
        let mut offsets: Vec<usize> = got
            .lock()
            .expect("inbox")
            .iter()
            .filter_map(|m| match m {
                ProgressMessage::Delta { offset, .. } => Some(*offset),
                _ => None,
            })
            .collect();
        // Retries may repeat a message; they never reorder or lose one.
        assert!(offsets.windows(2).all(|w| w[0] <= w[1]), "{offsets:?}");
        offsets.dedup();
        if offsets.len() == N {
            assert_eq!(offsets, (0..N).collect::<Vec<_>>());
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "messages lost: got {} of {N}: {offsets:?}",
            offsets.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!writer.is_down(), "one slow moment declared Redis down");
    relay.stop();
}
