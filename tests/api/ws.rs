//! The WebSocket over a real connection: authentication, owner checks, malformed messages, and replay
//! after a reconnect giving every event seq exactly once, in order, while live events are published.

use std::time::Duration;

use awc::ws::{Frame, Message};
use buko::db::repo;
use buko_actors::{ProgressMessage, Publish, Relay};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};

use crate::helpers::{author, create_book_via_api, make_ready, spawn_web_app, Author, TestApp};

pub type Conn = actix_codec::Framed<awc::BoxedSocket, awc::ws::Codec>;

pub async fn connect(app: &TestApp, a: &Author) -> Conn {
    let (res, conn) = awc::Client::new()
        .ws(format!("{}/ws", app.base))
        .set_header("cookie", a.client.cookie_header())
        .connect()
        .await
        .expect("ws connects");
    assert_eq!(res.status().as_u16(), 101);
    conn
}

pub async fn send(conn: &mut Conn, v: Value) {
    conn.send(Message::Text(v.to_string().into()))
        .await
        .expect("send");
}

/// The next JSON text message (pings answered by the codec's peer are skipped), or None on close/timeout.
pub async fn next_json(conn: &mut Conn, wait: Duration) -> Option<Value> {
    loop {
        let frame = actix_web::rt::time::timeout(wait, conn.next())
            .await
            .ok()??;
        match frame.expect("frame") {
            Frame::Text(t) => return Some(serde_json::from_slice(&t).expect("json")),
            Frame::Close(_) => return None,
            _ => continue,
        }
    }
}

/// Appends a durable event (as the engine's store does) and publishes it live.
async fn emit(app: &TestApp, book_id: &str, seq_expected: i64) {
    let row = repo::events::append(
        &mut app.db(),
        book_id,
        "chunk_started",
        &json!({"seq": seq_expected}),
    )
    .expect("append");
    assert_eq!(row.seq, seq_expected);
    app.broadcaster
        .send(Publish(ProgressMessage::from_event(row.to_book_event())))
        .await
        .expect("publish");
}

async fn republish(app: &TestApp, book_id: &str, seq: i64) {
    let rows = repo::events::list_after(&mut app.db(), book_id, seq - 1, 1).expect("rows");
    app.broadcaster
        .send(Publish(ProgressMessage::from_event(
            rows[0].to_book_event(),
        )))
        .await
        .expect("publish");
}

/// A queued book whose only event so far is the architecture's `status` (seq 1).
pub async fn ready_book(app: &TestApp, a: &Author) -> String {
    let id = create_book_via_api(a, "Streaming").await;
    make_ready(app, &id).await;
    let res = a
        .api("POST", &format!("/api/v1/books/{id}/approve"), None)
        .await;
    assert_eq!(res.status, 202);
    id
}

#[actix_web::test]
async fn replay_after_reconnect_delivers_every_seq_exactly_once() {
    let app = spawn_web_app().await;
    let a = author(&app).await;
    let id = ready_book(&app, &a).await;
    for seq in 1..=5 {
        repo::events::append(
            &mut app.db(),
            &id,
            "chapter_completed",
            &json!({"chapter_index": seq}),
        )
        .expect("append");
    }
    // Text of a chunk in progress that arrived from another node before this client subscribed.
    app.broadcaster
        .send(Relay(ProgressMessage::Delta {
            book_id: id.clone(),
            chunk_seq: 1,
            offset: 0,
            text: "Hel".into(),
        }))
        .await
        .expect("relay");
    let mut seen = vec![];
    let mut conn = connect(&app, &a).await;
    send(
        &mut conn,
        json!({"type": "subscribe", "book_id": id, "after_seq": 3}),
    )
    .await;
    // Live traffic racing the replay: duplicates of stored events, a new event, and text.
    republish(&app, &id, 5).await;
    republish(&app, &id, 6).await;
    emit(&app, &id, 7).await;
    let mut text = String::new();
    let mut published_delta = false;
    while let Some(m) = next_json(&mut conn, Duration::from_millis(700)).await {
        match m["type"].as_str() {
            Some("event") => seen.push(m["seq"].as_i64().expect("seq")),
            Some("snapshot") => {
                assert_eq!(m["chunk_seq"], 1);
                text = m["text"].as_str().expect("text").to_string();
                // Subscribed for sure now: the rest of the chunk arrives as a delta at its offset.
                app.broadcaster
                    .send(Relay(ProgressMessage::Delta {
                        book_id: id.clone(),
                        chunk_seq: 1,
                        offset: 3,
                        text: "lo".into(),
                    }))
                    .await
                    .expect("relay");
                published_delta = true;
            }
            Some("delta") => {
                assert_eq!(m["offset"].as_u64(), Some(text.chars().count() as u64));
                text.push_str(m["text"].as_str().expect("text"));
            }
            other => panic!("unexpected {other:?}: {m}"),
        }
    }
    assert!(published_delta, "a snapshot arrived on subscribe");
    assert_eq!(text, "Hello");
    assert_eq!(seen, vec![4, 5, 6, 7]);
    drop(conn);

    // Written while the client is away: nobody receives them live.
    emit(&app, &id, 8).await;
    emit(&app, &id, 9).await;
    let mut conn = connect(&app, &a).await;
    send(
        &mut conn,
        json!({"type": "subscribe", "book_id": id, "after_seq": 7}),
    )
    .await;
    emit(&app, &id, 10).await;
    republish(&app, &id, 9).await;
    let mut snapshots = 0;
    while let Some(m) = next_json(&mut conn, Duration::from_millis(700)).await {
        if m["type"] == "snapshot" {
            // The reconnecting client gets the chunk in progress whole, once.
            assert_eq!(m["text"], "Hello");
            snapshots += 1;
            continue;
        }
        assert_eq!(m["type"], "event", "{m}");
        seen.push(m["seq"].as_i64().expect("seq"));
    }
    assert_eq!(snapshots, 1);
    assert_eq!(seen, (4..=10).collect::<Vec<_>>());
}

#[actix_web::test]
async fn unauthenticated_upgrade_is_401() {
    let app = spawn_web_app().await;
    for url in [
        format!("{}/ws", app.base),
        format!("{}/ws?api_key=buko_deadbeefdeadbeef", app.base),
    ] {
        let err = awc::Client::new()
            .ws(url)
            .connect()
            .await
            .err()
            .expect("refused");
        match err {
            awc::error::WsClientError::InvalidResponseStatus(s) => assert_eq!(s.as_u16(), 401),
            other => panic!("{other}"),
        }
    }
}

#[actix_web::test]
async fn another_users_book_and_malformed_messages_get_errors_not_disconnects() {
    let app = spawn_web_app().await;
    let owner = author(&app).await;
    let other = author(&app).await;
    let id = ready_book(&app, &owner).await;
    // The other user connects with an API key this time.
    let (_, mut conn) = awc::Client::new()
        .ws(format!("{}/ws?api_key={}", app.base, other.key))
        .connect()
        .await
        .expect("connects");
    send(
        &mut conn,
        json!({"type": "subscribe", "book_id": id, "after_seq": 0}),
    )
    .await;
    let m = next_json(&mut conn, Duration::from_secs(5))
        .await
        .expect("reply");
    assert_eq!(m["type"], "error");
    assert_eq!(m["code"], "not_found");
    emit(&app, &id, 2).await;

    conn.send(Message::Text("{not json".into()))
        .await
        .expect("send");
    let m = next_json(&mut conn, Duration::from_secs(5))
        .await
        .expect("reply");
    assert_eq!(m["type"], "error");
    assert_eq!(m["code"], "bad_message");
    send(&mut conn, json!({"type": "teleport"})).await;
    assert_eq!(
        next_json(&mut conn, Duration::from_secs(5))
            .await
            .expect("reply")["code"],
        "bad_message"
    );
    send(&mut conn, json!({"type": "ping"})).await;
    let m = next_json(&mut conn, Duration::from_secs(5))
        .await
        .expect("still connected");
    assert_eq!(
        m,
        json!({"type": "pong"}),
        "and the other user's event never arrived"
    );
}

#[actix_web::test]
async fn oversized_frames_close_the_connection() {
    let app = spawn_web_app().await;
    let a = author(&app).await;
    let mut conn = connect(&app, &a).await;
    let big = format!(
        "{{\"type\":\"ping\",\"pad\":\"{}\"}}",
        "x".repeat(100 * 1024)
    );
    conn.send(Message::Text(big.into())).await.expect("send");
    assert!(
        next_json(&mut conn, Duration::from_secs(5)).await.is_none(),
        "closed"
    );
}

#[actix_web::test]
async fn a_client_too_slow_to_read_is_closed_with_a_reason() {
    let app = spawn_web_app().await;
    let a = author(&app).await;
    let id = ready_book(&app, &a).await;
    let mut conn = connect(&app, &a).await;
    send(
        &mut conn,
        json!({"type": "subscribe", "book_id": id, "after_seq": 0}),
    )
    .await;
    // Subscribed before the text starts: a delta that leaves a hole in what the client has is held back
    // (it waits for a snapshot), so the stream must start at offset 0 for this client.
    while next_json(&mut conn, Duration::from_millis(300))
        .await
        .is_some()
    {}
    // Far more than the session's bounded queue plus the socket buffers, while the client reads nothing.
    let piece = "x".repeat(16 * 1024);
    let total = 3_000usize;
    for i in 0..total {
        app.broadcaster.do_send(Publish(ProgressMessage::Delta {
            book_id: id.clone(),
            chunk_seq: 1,
            offset: i * piece.len(),
            text: piece.clone(),
        }));
        if i % 100 == 0 {
            actix_web::rt::time::sleep(Duration::from_millis(5)).await;
        }
    }
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    let mut deltas = 0usize;
    let reason = loop {
        let frame = actix_web::rt::time::timeout(Duration::from_secs(20), conn.next())
            .await
            .expect("the server closes the connection")
            .expect("a frame")
            .expect("frame");
        match frame {
            Frame::Text(_) => deltas += 1,
            Frame::Close(r) => break r.and_then(|r| r.description).unwrap_or_default(),
            _ => {}
        }
    };
    assert!(reason.contains("too slow"), "{reason}");
    assert!(
        deltas < total,
        "the backlog was bounded ({deltas} of {total} delivered)"
    );
}
