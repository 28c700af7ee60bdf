//! The WebSocket's side of issue 18: a page of another origin cannot open it (finding 7), a socket
//! opened with an API key closes when the key is revoked, on this node or another (finding 6), and a
//! subscribe costs a bounded replay: once per book per socket, at most `REPLAY_CAP` events then a
//! `resync`, and a limited number of subscribes a minute (finding 9).

use std::time::{Duration, Instant};

use awc::ws::{Frame, Message};
use buko::db::repo;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};

use crate::helpers::{
    author, create_book_via_api, make_ready, spawn_app_with, spawn_web_app, Author, TestApp,
};

type Conn = actix_codec::Framed<awc::BoxedSocket, awc::ws::Codec>;

async fn connect_with(base: &str, headers: &[(&str, &str)], query: &str) -> Result<Conn, u16> {
    let mut req = awc::Client::new().ws(format!("{base}/ws{query}"));
    for (k, v) in headers {
        req = req.set_header(*k, *v);
    }
    match req.connect().await {
        Ok((res, conn)) => {
            assert_eq!(res.status().as_u16(), 101);
            Ok(conn)
        }
        Err(awc::error::WsClientError::InvalidResponseStatus(s)) => Err(s.as_u16()),
        Err(e) => panic!("ws connect: {e}"),
    }
}

async fn send(conn: &mut Conn, v: Value) {
    conn.send(Message::Text(v.to_string().into()))
        .await
        .expect("send");
}

enum Next {
    Json(Value),
    Closed(Option<String>),
    Timeout,
}

async fn next(conn: &mut Conn, wait: Duration) -> Next {
    loop {
        match actix_web::rt::time::timeout(wait, conn.next()).await {
            Err(_) => return Next::Timeout,
            Ok(None) => return Next::Closed(None),
            Ok(Some(Err(_))) => return Next::Closed(None),
            Ok(Some(Ok(Frame::Text(t)))) => {
                return Next::Json(serde_json::from_slice(&t).expect("json"))
            }
            Ok(Some(Ok(Frame::Close(r)))) => return Next::Closed(r.and_then(|r| r.description)),
            Ok(Some(Ok(_))) => continue,
        }
    }
}

/// Every JSON message until `quiet` passes without one.
async fn drain(conn: &mut Conn, quiet: Duration) -> Vec<Value> {
    let mut out = vec![];
    while let Next::Json(v) = next(conn, quiet).await {
        out.push(v);
    }
    out
}

async fn wait_closed(conn: &mut Conn, within: Duration) -> Option<String> {
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match next(conn, left.max(Duration::from_millis(1))).await {
            Next::Closed(reason) => return reason,
            Next::Json(_) => continue,
            Next::Timeout => panic!("the socket stayed open for {within:?}"),
        }
    }
}

#[actix_web::test]
async fn a_page_of_another_origin_cannot_open_the_socket() {
    let app = spawn_web_app().await;
    let a = author(&app).await;
    let cookie = a.client.cookie_header();
    for evil in [
        "https://evil.example",
        "http://sub.127.0.0.1.nip.io",
        "null",
    ] {
        let r = connect_with(&app.base, &[("cookie", &cookie), ("origin", evil)], "").await;
        // Fails before issue 18: 101 whatever the origin.
        assert_eq!(r.err(), Some(403), "{evil}");
    }
    // The site's own origin, and clients that send none (API scripts), still connect.
    let own = format!("http://127.0.0.1:{}", app.port);
    assert!(
        connect_with(&app.base, &[("cookie", &cookie), ("origin", &own)], "")
            .await
            .is_ok()
    );
    assert!(connect_with(&app.base, &[("cookie", &cookie)], "")
        .await
        .is_ok());
}

#[actix_web::test]
async fn configured_origins_are_allowed() {
    let app = spawn_app_with(|s| {
        s.mail.public_url = "https://buko.example.com".into();
        s.allowed_origins = vec!["https://app.example.com".into()];
    })
    .await;
    let a = author(&app).await;
    let cookie = a.client.cookie_header();
    for ok in ["https://buko.example.com", "https://app.example.com"] {
        assert!(
            connect_with(&app.base, &[("cookie", &cookie), ("origin", ok)], "")
                .await
                .is_ok(),
            "{ok}"
        );
    }
    let r = connect_with(
        &app.base,
        &[("cookie", &cookie), ("origin", "https://example.com")],
        "",
    )
    .await;
    assert_eq!(r.err(), Some(403));
}

async fn revoke_key(a: &Author, base_client: &crate::helpers::Client) {
    let prefix = &a.key[..13];
    let token = base_client.csrf("/settings").await;
    let res = base_client
        .post_form(
            &format!("/settings/keys/{prefix}/revoke"),
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(res.status, 303);
}

#[actix_web::test]
async fn revoking_an_api_key_closes_its_socket() {
    let app = spawn_web_app().await;
    let a = author(&app).await;
    let mut ws = connect_with(&app.base, &[], &format!("?api_key={}", a.key))
        .await
        .expect("ws with the key");
    revoke_key(&a, &a.client).await;
    assert_eq!(a.api("GET", "/api/v1/books", None).await.status, 401);
    // Fails before issue 18: the socket kept receiving the owner's events.
    let reason = wait_closed(&mut ws, Duration::from_secs(5)).await;
    assert_eq!(reason.as_deref(), Some("API key revoked"));
}

#[actix_web::test]
async fn revoking_a_key_on_one_node_closes_its_socket_on_another() {
    let redis = crate::redis_support::shared_url();
    let url = redis.clone();
    let a_node = spawn_app_with(|s| s.redis_url = Some(buko::secret::Secret::new(url))).await;
    let db = a_node.database_url.clone();
    let b_node = spawn_app_with(|s| {
        s.redis_url = Some(buko::secret::Secret::new(redis));
        s.database_url = buko::secret::Secret::new(db);
    })
    .await;
    let a = author(&a_node).await;
    let mut ws = connect_with(&b_node.base, &[], &format!("?api_key={}", a.key))
        .await
        .expect("ws with the key on node B");
    revoke_key(&a, &a.client).await;
    let reason = wait_closed(&mut ws, Duration::from_secs(5)).await;
    assert_eq!(reason.as_deref(), Some("API key revoked"));
}

async fn book_with_events(app: &TestApp, a: &Author, n: usize) -> String {
    let id = create_book_via_api(a, "Many events").await;
    make_ready(app, &id).await;
    let mut conn = app.db();
    for i in 0..n {
        repo::events::append(
            &mut conn,
            &id,
            "chapter_completed",
            &json!({"chapter_index": i}),
        )
        .expect("append");
    }
    id
}

fn events_of(msgs: &[Value]) -> usize {
    msgs.iter().filter(|m| m["type"] == "event").count()
}

#[actix_web::test]
async fn subscribing_again_replays_nothing_and_a_long_history_is_capped() {
    let app = spawn_web_app().await;
    let a = author(&app).await;
    let short = book_with_events(&app, &a, 20).await;
    let cookie = a.client.cookie_header();
    let mut ws = connect_with(&app.base, &[("cookie", &cookie)], "")
        .await
        .expect("ws");
    send(
        &mut ws,
        json!({"type": "subscribe", "book_id": short, "after_seq": 0}),
    )
    .await;
    let first = drain(&mut ws, Duration::from_millis(700)).await;
    let replayed = events_of(&first);
    assert!(replayed >= 20, "{first:?}");
    for _ in 0..5 {
        send(
            &mut ws,
            json!({"type": "subscribe", "book_id": short, "after_seq": 0}),
        )
        .await;
    }
    let again = drain(&mut ws, Duration::from_millis(700)).await;
    // Fails before issue 18: each subscribe replayed the whole history again.
    assert_eq!(events_of(&again), 0, "{again:?}");

    let long = book_with_events(&app, &a, 700).await;
    send(
        &mut ws,
        json!({"type": "subscribe", "book_id": long, "after_seq": 0}),
    )
    .await;
    let msgs = drain(&mut ws, Duration::from_millis(1500)).await;
    assert_eq!(events_of(&msgs), 500, "at most REPLAY_CAP events");
    let resync = msgs.last().expect("messages");
    assert_eq!(resync["type"], "resync", "{resync}");
    let latest = repo::events::last_seq(&mut app.db(), &long).expect("seq");
    assert_eq!(resync["last_seq"], latest);
}

#[actix_web::test]
async fn subscribes_per_minute_are_limited() {
    let app = spawn_web_app().await;
    let a = author(&app).await;
    let id = book_with_events(&app, &a, 1).await;
    let cookie = a.client.cookie_header();
    let mut ws = connect_with(&app.base, &[("cookie", &cookie)], "")
        .await
        .expect("ws");
    for _ in 0..40 {
        send(
            &mut ws,
            json!({"type": "subscribe", "book_id": id, "after_seq": 0}),
        )
        .await;
        send(&mut ws, json!({"type": "unsubscribe", "book_id": id})).await;
    }
    let msgs = drain(&mut ws, Duration::from_millis(1000)).await;
    // Fails before issue 18: every subscribe was served.
    assert!(
        msgs.iter().any(|m| m["code"] == "rate_limited"),
        "no subscribe was refused"
    );
    assert!(events_of(&msgs) <= 30 * 2, "{}", events_of(&msgs));
}
