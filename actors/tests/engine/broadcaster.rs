//! The broadcaster alone: slow subscribers are dropped without delaying others, deltas are coalesced
//! with correct offsets, subscribing sends a snapshot, relays do not echo to the sink.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix::prelude::*;
use buko_actors::broadcast::{ChunkStream, StreamPiece};
use buko_actors::*;
use chrono::Utc;

use crate::helpers::*;

#[derive(Default)]
struct CountingSink(Mutex<Vec<ProgressMessage>>);
impl ProgressSink for CountingSink {
    fn publish(&self, message: &ProgressMessage) {
        self.0.lock().unwrap().push(message.clone());
    }
}

fn event(book: &str, seq: i64) -> ProgressMessage {
    ProgressMessage::Event {
        book_id: book.into(),
        seq,
        kind: "chunk_completed".into(),
        data: serde_json::json!({}),
        at: Utc::now(),
    }
}

/// Takes 20 ms per message on its own thread, with a mailbox of 4.
struct Slow {
    got: Arc<Mutex<Vec<Deliver>>>,
}
impl Actor for Slow {
    type Context = Context<Self>;
}
impl Handler<Deliver> for Slow {
    type Result = ();
    fn handle(&mut self, msg: Deliver, _: &mut Self::Context) {
        std::thread::sleep(Duration::from_millis(20));
        self.got.lock().unwrap().push(msg);
    }
}

#[actix::test]
async fn slow_subscriber_is_dropped_and_does_not_delay_the_others() {
    let b = ProgressBroadcaster::new(Arc::new(NoRemote), Duration::ZERO).start();
    let fast = collect(&b, Topic::Book("bk".into())).await;
    let slow_got = Arc::new(Mutex::new(Vec::new()));
    let arbiter = Arbiter::new();
    let got = slow_got.clone();
    let slow = Slow::start_in_arbiter(&arbiter.handle(), move |ctx| {
        ctx.set_mailbox_capacity(4);
        Slow { got }
    });
    let id = b
        .send(Register {
            recipient: slow.recipient(),
        })
        .await
        .unwrap();
    assert!(b
        .send(Subscribe {
            id,
            topic: Topic::Book("bk".into())
        })
        .await
        .unwrap());

    let t0 = tokio::time::Instant::now();
    for seq in 1..=300 {
        b.do_send(Publish(event("bk", seq)));
    }
    wait_until(
        Duration::from_secs(2),
        "the fast subscriber got all",
        || messages(&fast).len() == 300,
    )
    .await;
    // 300 × 20 ms would be 6 s if the slow one set the pace.
    assert!(
        t0.elapsed() < Duration::from_secs(1),
        "fast subscriber waited {:?}",
        t0.elapsed()
    );
    let seqs: Vec<i64> = messages(&fast)
        .iter()
        .map(|m| {
            if let ProgressMessage::Event { seq, .. } = m {
                *seq
            } else {
                0
            }
        })
        .collect();
    assert_eq!(seqs, (1..=300).collect::<Vec<_>>());
    let counts = b.send(GetCounts).await.unwrap();
    assert_eq!((counts.subscribers, counts.dropped), (1, 1));
    wait_until(Duration::from_secs(2), "the slow one told why", || {
        slow_got
            .lock()
            .unwrap()
            .iter()
            .any(|d| matches!(d, Deliver::Dropped { .. }))
    })
    .await;
    let slow_msgs = slow_got.lock().unwrap().len();
    assert!(
        slow_msgs < 20,
        "the slow subscriber got {slow_msgs} messages"
    );
    assert!(
        !b.send(Subscribe {
            id,
            topic: Topic::All
        })
        .await
        .unwrap(),
        "a dropped id is gone"
    );
    arbiter.stop();
}

#[actix::test]
async fn deltas_are_coalesced_with_char_offsets_and_snapshot_on_subscribe() {
    let sink = Arc::new(CountingSink::default());
    let b = ProgressBroadcaster::new(sink.clone(), Duration::from_millis(50)).start();
    let early = collect(&b, Topic::Book("bk".into())).await;
    let piece = |p: StreamPiece| ChunkStream {
        book_id: "bk".into(),
        chunk_seq: 7,
        piece: p,
    };
    b.do_send(piece(StreamPiece::Begin));
    let pieces = ["Había ", "una ", "vez ", "un ", "faro. "];
    for p in pieces {
        b.do_send(piece(StreamPiece::Text(p.into())));
    }
    // A late subscriber gets the text so far as a snapshot, before any later delta.
    let late = collect(&b, Topic::Book("bk".into())).await;
    b.do_send(piece(StreamPiece::Text("Fin.".into())));
    tokio::time::sleep(Duration::from_millis(150)).await;

    let deltas = |got| -> Vec<(usize, String)> {
        messages(got)
            .into_iter()
            .filter_map(|m| match m {
                ProgressMessage::Delta {
                    offset,
                    text,
                    chunk_seq: 7,
                    ..
                } => Some((offset, text)),
                _ => None,
            })
            .collect()
    };
    let early_deltas = deltas(&early);
    assert_eq!(
        early_deltas,
        vec![(0, pieces.concat()), (23, "Fin.".to_string())],
        "coalesced, offsets in chars"
    );
    let late_msgs = messages(&late);
    assert!(
        matches!(&late_msgs[0], ProgressMessage::Snapshot { chunk_seq: 7, text, .. } if *text == pieces.concat()),
        "{late_msgs:?}"
    );
    assert_eq!(deltas(&late), vec![(23, "Fin.".to_string())]);
    assert_eq!(
        sink.0.lock().unwrap().len(),
        2,
        "local deltas go to other nodes too"
    );

    // Relayed messages are delivered and update snapshots, but are not sent back out.
    b.do_send(Relay(ProgressMessage::Delta {
        book_id: "r".into(),
        chunk_seq: 2,
        offset: 0,
        text: "remote".into(),
    }));
    let relayed = collect(&b, Topic::Book("r".into())).await;
    b.do_send(Relay(ProgressMessage::Broadcast {
        message: "hello".into(),
    }));
    tokio::time::sleep(Duration::from_millis(30)).await;
    assert!(
        matches!(&messages(&relayed)[0], ProgressMessage::Snapshot { text, .. } if text == "remote")
    );
    assert_eq!(sink.0.lock().unwrap().len(), 2);
}

#[actix::test]
async fn json_is_encoded_once_and_shared() {
    let b = ProgressBroadcaster::new(Arc::new(NoRemote), Duration::ZERO).start();
    let one = collect(&b, Topic::All).await;
    let two = collect(&b, Topic::All).await;
    b.do_send(Publish(ProgressMessage::Broadcast {
        message: "maintenance".into(),
    }));
    tokio::time::sleep(Duration::from_millis(30)).await;
    let get = |g: &Arc<Mutex<Vec<Deliver>>>| match &g.lock().unwrap()[0] {
        Deliver::Message(o) => o.clone(),
        Deliver::Dropped { .. } => panic!("dropped"),
    };
    let (a, c) = (get(&one), get(&two));
    assert!(Arc::ptr_eq(&a, &c));
    assert_eq!(&*a.json, r#"{"type":"broadcast","message":"maintenance"}"#);
}
