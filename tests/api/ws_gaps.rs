//! Issue 20: a watcher never sees a silent gap. An event lost on its way from another node is refilled
//! from the database before anything newer is sent; a text delta that does not continue what the client
//! has brings a fresh snapshot instead of being forwarded with a hole before it.

use std::time::Duration;

use buko::db::repo;
use buko_actors::{ProgressMessage, Publish, Relay};
use serde_json::{json, Value};

use crate::helpers::{author, spawn_web_app};
use crate::ws::{connect, next_json, ready_book, send};

async fn drain(conn: &mut crate::ws::Conn) -> Vec<Value> {
    let mut got = Vec::new();
    while let Some(m) = next_json(conn, Duration::from_millis(400)).await {
        got.push(m);
    }
    got
}

/// Before: only the live event (seq S+3) reached the client; S+1 and S+2 were silently missing.
#[actix_web::test]
async fn a_lost_event_is_refilled_from_the_database_before_the_next_one() {
    let app = spawn_web_app().await;
    let a = author(&app).await;
    let id = ready_book(&app, &a).await;
    let mut conn = connect(&app, &a).await;
    send(
        &mut conn,
        json!({"type": "subscribe", "book_id": id, "after_seq": 0}),
    )
    .await;
    let replayed: Vec<i64> = drain(&mut conn)
        .await
        .iter()
        .filter_map(|m| m["seq"].as_i64())
        .collect();
    let last = *replayed.last().expect("the replay sent the stored events");
    let mut rows = Vec::new();
    for i in 1..=3 {
        rows.push(
            repo::events::append(&mut app.db(), &id, "chunk_started", &json!({"seq": i}))
                .expect("append"),
        );
    }
    // Only the newest reaches this node's broadcaster (the relay dropped the others).
    let newest = rows.last().expect("rows").to_book_event();
    app.broadcaster
        .send(Publish(ProgressMessage::from_event(newest)))
        .await
        .expect("publish");
    let seqs: Vec<i64> = drain(&mut conn)
        .await
        .iter()
        .filter(|m| m["type"] == "event")
        .filter_map(|m| m["seq"].as_i64())
        .collect();
    assert_eq!(seqs, vec![last + 1, last + 2, last + 3]);
}

/// Before: the delta at offset 10 was forwarded although the client had 3 chars of the chunk.
#[actix_web::test]
async fn a_delta_past_the_text_brings_a_snapshot_not_a_hole() {
    let app = spawn_web_app().await;
    let a = author(&app).await;
    let id = ready_book(&app, &a).await;
    let mut conn = connect(&app, &a).await;
    send(
        &mut conn,
        json!({"type": "subscribe", "book_id": id, "after_seq": 0}),
    )
    .await;
    drain(&mut conn).await;
    let relay = |offset: usize, text: &str| {
        Relay(ProgressMessage::Delta {
            book_id: id.clone(),
            chunk_seq: 1,
            offset,
            text: text.into(),
        })
    };
    for (offset, text) in [(0, "abc"), (10, "klm"), (3, "def")] {
        app.broadcaster
            .send(relay(offset, text))
            .await
            .expect("relay");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // What the client rebuilds: every delta must start where its text ends.
    let mut text = String::new();
    for m in drain(&mut conn).await {
        match m["type"].as_str() {
            Some("delta") => {
                let offset = m["offset"].as_u64().expect("offset") as usize;
                assert_eq!(offset, text.chars().count(), "a delta with a hole: {m}");
                text.push_str(m["text"].as_str().expect("text"));
            }
            Some("snapshot") => text = m["text"].as_str().expect("text").to_string(),
            _ => {}
        }
    }
    assert_eq!(text, "abcdef");
}
