//! Redis-backed shared services against a real server: the limiter admits exactly the limit across
//! nodes under concurrency, progress crosses nodes (and does not echo back), presence is shared, and
//! everything degrades to local-only when Redis is unreachable.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use buko::bus::redis::Redis;
use buko::bus::{start_relay, MemoryPresence, Presence, RedisPresence, RedisProgressSink};
use buko::limits::{RateLimiter, RedisLimiter};
use buko_actors::progress::ProgressMessage;
use buko_actors::ProgressSink;
use futures_util::future::join_all;

use crate::redis_support::{prefix, shared, PrivateRedis};

const HOUR: Duration = Duration::from_secs(3600);

#[actix_web::test]
async fn one_hundred_concurrent_attempts_on_two_nodes_admit_exactly_the_limit() {
    let p = prefix();
    // Two "nodes": separate pools, separate local fallbacks.
    let a = RedisLimiter::new(shared(), &p);
    let b = RedisLimiter::new(shared(), &p);
    let attempts = (0..100).map(|i| {
        let l = if i % 2 == 0 { &a } else { &b };
        l.hit("user:1:architectures".into(), 3, HOUR)
    });
    let decisions = join_all(attempts).await;
    let admitted = decisions.iter().filter(|d| d.allowed).count();
    assert_eq!(admitted, 3);
    let refused = decisions.iter().find(|d| !d.allowed).unwrap();
    assert!(refused.retry_after_secs > 3500 && refused.retry_after_secs <= 3600);
    // Refused attempts were not counted; another key is independent.
    assert_eq!(a.used("user:1:architectures".into(), HOUR).await, 3);
    assert!(b.hit("user:2:architectures".into(), 3, HOUR).await.allowed);
}

#[actix_web::test]
async fn the_window_slides() {
    let l = RedisLimiter::new(shared(), &prefix());
    let w = Duration::from_millis(400);
    assert!(l.hit("k".into(), 1, w).await.allowed);
    assert!(!l.hit("k".into(), 1, w).await.allowed);
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert!(l.hit("k".into(), 1, w).await.allowed);
}

#[actix_web::test]
async fn several_windows_in_one_attempt_count_in_all_or_none() {
    let p = prefix();
    let (a, b) = (
        RedisLimiter::new(shared(), &p),
        RedisLimiter::new(shared(), &p),
    );
    let both = || vec![("ip".to_string(), 5), ("endpoint".to_string(), 2)];
    let d = a.hit_all(both(), HOUR).await;
    assert_eq!(
        (d.allowed, d.remaining),
        (true, 1),
        "the tighter window's count"
    );
    assert!(b.hit_all(both(), HOUR).await.allowed, "shared across nodes");
    let d = a.hit_all(both(), HOUR).await;
    assert!(!d.allowed, "the endpoint window is full");
    assert!(d.retry_after_secs > 3500 && d.retry_after_secs <= 3600);
    // The refused attempt used nothing of the IP's window: 2 used of 5.
    assert_eq!(b.used("ip".into(), HOUR).await, 2);
    assert_eq!(b.used("endpoint".into(), HOUR).await, 2);
    let d = b.hit("ip".into(), 5, HOUR).await;
    assert_eq!((d.allowed, d.remaining), (true, 2));
}

#[actix_web::test]
async fn the_limiter_falls_back_to_local_limits_when_redis_is_unreachable() {
    let redis = Redis::connect_lazy("redis://127.0.0.1:1").unwrap();
    let l = RedisLimiter::new(redis.clone(), "x:");
    let started = Instant::now();
    let mut admitted = 0;
    for _ in 0..5 {
        admitted += l.hit("u".into(), 3, HOUR).await.allowed as usize;
    }
    assert_eq!(admitted, 3);
    assert!(redis.is_down());
    // After the first failure Redis is skipped, so requests do not each wait for a timeout.
    assert!(started.elapsed() < Duration::from_secs(3));
}

fn delta(book: &str, text: &str) -> ProgressMessage {
    ProgressMessage::Delta {
        book_id: book.into(),
        chunk_seq: 1,
        offset: 0,
        text: text.into(),
    }
}

type Inbox = Arc<Mutex<Vec<ProgressMessage>>>;

fn inbox() -> (Inbox, impl Fn(ProgressMessage) + 'static) {
    let inbox: Inbox = Arc::default();
    let i = inbox.clone();
    (inbox, move |m| i.lock().expect("inbox").push(m))
}

async fn wait_for_subscribers(redis: &Redis, channel: &str, n: i64) {
    let start = Instant::now();
    loop {
        let mut c = redis.connection().await.expect("redis connection");
        let (_, count): (String, i64) = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(channel)
            .query_async(&mut c)
            .await
            .expect("PUBSUB NUMSUB");
        if count >= n {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "relays did not subscribe"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn wait_for(what: &str, f: impl Fn() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[actix_web::test]
async fn progress_published_on_one_node_is_relayed_to_the_other_and_not_back() {
    let channel = format!("{}progress", prefix());
    let (at_a, deliver_a) = inbox();
    let (at_b, deliver_b) = inbox();
    let relay_a = start_relay(shared(), "node-a", &channel, deliver_a);
    let relay_b = start_relay(shared(), "node-b", &channel, deliver_b);
    wait_for_subscribers(&shared(), &channel, 2).await;
    let sink_a = RedisProgressSink::start(shared(), "node-a", &channel);
    let sink_b = RedisProgressSink::start(shared(), "node-b", &channel);
    sink_a.publish(&delta("book-1", "Érase una vez «así»"));
    sink_b.publish(&delta("book-2", "from b"));
    wait_for("B receives A's message", || at_b.lock().unwrap().len() == 1).await;
    wait_for("A receives B's message", || at_a.lock().unwrap().len() == 1).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        *at_b.lock().unwrap(),
        vec![delta("book-1", "Érase una vez «así»")]
    );
    assert_eq!(*at_a.lock().unwrap(), vec![delta("book-2", "from b")]);
    relay_a.stop();
    relay_b.stop();
}

#[actix_web::test]
async fn presence_is_shared_between_nodes_with_a_peak() {
    let p = prefix();
    let window = Duration::from_millis(1200);
    let flush = Duration::from_millis(50);
    let a = RedisPresence::new(shared(), &p, window).flushing_every(flush);
    let b = RedisPresence::new(shared(), &p, window).flushing_every(flush);
    a.touch("u1".into()).await;
    b.touch("u2".into()).await;
    b.touch("u1".into()).await;
    // b's touches reach Redis with its next write; a's own go with its read.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(a.online().await, (2, 2));
    tokio::time::sleep(Duration::from_millis(600)).await;
    a.touch("u3".into()).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(b.online().await, (3, 3));
    tokio::time::sleep(Duration::from_millis(600)).await;
    // u1 and u2 were last seen ≈ 1.6 s ago: gone; u3 ≈ 0.8 s ago; the peak stays.
    assert_eq!(b.online().await, (1, 3));
}

#[actix_web::test]
async fn many_touches_are_one_write_and_a_read_sends_what_was_collected() {
    let p = prefix();
    let a = RedisPresence::new(shared(), &p, Duration::from_secs(60))
        .flushing_every(Duration::from_secs(30));
    for i in 0..1200 {
        a.touch(format!("u{}", i % 1100)).await;
    }
    // Nothing written yet (the write waits 30 s), so another node sees nobody...
    let b = RedisPresence::new(shared(), &p, Duration::from_secs(60));
    assert_eq!(b.online().await, (0, 0));
    // ...until this node reads: its 1,100 distinct users go first, in batches.
    assert_eq!(a.online().await, (1100, 1100));
    assert_eq!(b.online().await, (1100, 1100));
}

#[actix_web::test]
async fn memory_presence_counts_and_forgets() {
    let m = MemoryPresence::new(Duration::from_millis(200));
    m.touch("a".into()).await;
    m.touch("b".into()).await;
    m.touch("a".into()).await;
    assert_eq!(m.online().await, (2, 2));
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(m.online().await, (0, 2));
}

#[actix_web::test]
async fn a_redis_outage_degrades_to_local_and_recovers() {
    let mut server = PrivateRedis::start();
    let redis = Redis::connect_lazy(&server.url()).unwrap();
    let channel = "buko:progress:outage";
    let (at_b, deliver_b) = inbox();
    let relay = start_relay(redis.clone(), "node-b", channel, deliver_b);
    actix_web::rt::spawn(redis.clone().monitor(Duration::from_millis(200)));
    wait_for_subscribers(&redis, channel, 1).await;
    let sink_a = RedisProgressSink::start(redis.clone(), "node-a", channel);
    let limiter = RedisLimiter::new(redis.clone(), "rl:");
    assert!(limiter.hit("u".into(), 1, HOUR).await.allowed);
    sink_a.publish(&delta("b", "before"));
    wait_for("delivery before the outage", || {
        at_b.lock().unwrap().len() == 1
    })
    .await;

    server.stop();
    wait_for("the outage to be noticed", || redis.is_down()).await;
    // Local-only: this node still limits (with its own window) and nothing blocks.
    let d = limiter.hit("other".into(), 1, HOUR).await;
    assert!(d.allowed);
    assert!(!limiter.hit("other".into(), 1, HOUR).await.allowed);
    sink_a.publish(&delta("b", "during"));

    server.restart();
    wait_for("recovery", || !redis.is_down()).await;
    wait_for_subscribers(&redis, channel, 1).await;
    sink_a.publish(&delta("b", "after"));
    wait_for("delivery after recovery", || {
        at_b.lock()
            .unwrap()
            .iter()
            .any(|m| *m == delta("b", "after"))
    })
    .await;
    // The restarted server lost its data (no persistence): shared limits start afresh.
    assert!(limiter.hit("u".into(), 1, HOUR).await.allowed);
    relay.stop();
}
