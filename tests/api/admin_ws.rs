//! The admin panel's reach into live WebSocket sessions: a broadcast arrives on every connected
//! session, a disconnect closes exactly the chosen user's sessions, and admin sessions receive the
//! dashboard's `stats` samples.

use std::time::Duration;

use awc::ws::Frame;
use futures_util::{Stream, StreamExt};
use serde_json::Value;

use crate::admin::{act, admin, member, Member};
use crate::helpers::{spawn_app, TestApp};

async fn connect(
    app: &TestApp,
    m: &Member,
) -> impl Stream<Item = Result<Frame, awc::error::WsProtocolError>> + Unpin {
    let (res, conn) = awc::Client::new()
        .ws(format!("{}/ws", app.base))
        .set_header("cookie", m.client.cookie_header())
        .connect()
        .await
        .expect("ws connects");
    assert_eq!(res.status().as_u16(), 101);
    conn
}

enum Next {
    Json(Value),
    Closed,
    Timeout,
}

async fn next<S>(conn: &mut S, wait: Duration) -> Next
where
    S: Stream<Item = Result<Frame, awc::error::WsProtocolError>> + Unpin,
{
    loop {
        match actix_web::rt::time::timeout(wait, conn.next()).await {
            Err(_) => return Next::Timeout,
            Ok(None) | Ok(Some(Err(_))) | Ok(Some(Ok(Frame::Close(_)))) => return Next::Closed,
            Ok(Some(Ok(Frame::Text(t)))) => {
                return Next::Json(serde_json::from_slice(&t).expect("json"))
            }
            Ok(Some(Ok(_))) => continue,
        }
    }
}

/// The next message of `kind`, skipping others (e.g. stats samples); None when closed or silent.
async fn next_of<S>(conn: &mut S, kind: &str) -> Option<Value>
where
    S: Stream<Item = Result<Frame, awc::error::WsProtocolError>> + Unpin,
{
    loop {
        match next(conn, Duration::from_secs(5)).await {
            Next::Json(v) if v["type"] == kind => return Some(v),
            Next::Json(_) => continue,
            _ => return None,
        }
    }
}

#[actix_web::test]
async fn broadcast_reaches_every_session_and_disconnect_closes_one_users() {
    let app = spawn_app().await;
    let a = admin(&app).await;
    let u1 = member(&app).await;
    let u2 = member(&app).await;
    let mut s1a = connect(&app, &u1).await;
    let mut s1b = connect(&app, &u1).await;
    let mut s2 = connect(&app, &u2).await;
    // Sessions register on start; give the registry a moment before counting on it.
    actix_web::rt::time::sleep(Duration::from_millis(200)).await;

    let res = act(
        &a,
        "/admin/broadcast",
        &[("message", "Maintenance at 03:00 <b>UTC</b>")],
    )
    .await;
    assert_eq!(res.status, 303);
    for conn in [&mut s1a, &mut s1b, &mut s2] {
        let m = next_of(conn, "broadcast").await.expect("broadcast arrives");
        assert_eq!(m["message"], "Maintenance at 03:00 <b>UTC</b>");
    }
    // Empty messages are refused.
    assert_eq!(
        act(&a, "/admin/broadcast", &[("message", "  ")])
            .await
            .status,
        422
    );

    let res = act(&a, &format!("/admin/users/{}/disconnect", u1.id), &[]).await;
    assert_eq!(res.status, 303);
    for conn in [&mut s1a, &mut s1b] {
        loop {
            match next(conn, Duration::from_secs(5)).await {
                Next::Closed => break,
                Next::Json(v) if v["type"] != "broadcast" => continue,
                Next::Json(v) => panic!("unexpected {v}"),
                Next::Timeout => panic!("u1's session was not closed"),
            }
        }
    }
    // u2 stays connected: a second broadcast still reaches it.
    assert_eq!(
        act(&a, "/admin/broadcast", &[("message", "still here?")])
            .await
            .status,
        303
    );
    let m = next_of(&mut s2, "broadcast")
        .await
        .expect("u2 still connected");
    assert_eq!(m["message"], "still here?");
    let audit = buko::db::repo::audit::recent(&mut app.db(), 50).expect("audit");
    assert!(audit
        .iter()
        .any(|e| e.action == "user.disconnect" && e.target_id == u1.id));
    assert_eq!(audit.iter().filter(|e| e.action == "broadcast").count(), 2);
}

#[actix_web::test]
async fn admin_sessions_receive_live_stats_and_others_do_not() {
    let app = spawn_app().await;
    let a = admin(&app).await;
    let u = member(&app).await;
    let mut admin_ws = connect(&app, &a).await;
    let mut user_ws = connect(&app, &u).await;
    let stats = loop {
        let m = next_of(&mut admin_ws, "stats")
            .await
            .expect("a stats sample within 5 s");
        // Analytics updates share the message type (`data.analytics`); this test is about samples.
        if m["data"].get("analytics").is_none() {
            break m;
        }
    };
    let data = &stats["data"];
    assert!(
        data["ws_connections"].as_u64().is_some_and(|n| n >= 2),
        "{data}"
    );
    assert!(
        data["online_users"].as_u64().is_some_and(|n| n >= 2),
        "{data}"
    );
    assert!(data["breakers"][0]["state"].is_string(), "{data}");
    // The user's session hears nothing in the same time (no stats leak to non-admins).
    assert!(matches!(
        next(&mut user_ws, Duration::from_secs(3)).await,
        Next::Timeout
    ));
}

fn gauge(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name} missing from /metrics"))
}

#[actix_web::test]
async fn metrics_count_websocket_connections() {
    let app = spawn_app().await;
    let u = member(&app).await;
    let scrape = || async { crate::helpers::Client::new(&app).get("/metrics").await.body };
    assert_eq!(gauge(&scrape().await, "buko_ws_connections"), 0.0);
    let _c1 = connect(&app, &u).await;
    let _c2 = connect(&app, &u).await;
    actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    let text = scrape().await;
    assert_eq!(gauge(&text, "buko_ws_connections"), 2.0);
    assert_eq!(gauge(&text, "buko_ws_users"), 1.0);

    // A broadcast is one outgoing message per connected session.
    let sent = |text: &str| gauge(text, "buko_ws_messages_total{direction=\"out\"}");
    let out_line = "buko_ws_messages_total{direction=\"out\"}";
    let before = if text.contains(out_line) {
        sent(&text)
    } else {
        0.0
    };
    app.broadcaster
        .send(buko_actors::Publish(
            buko_actors::ProgressMessage::Broadcast {
                message: "hello".into(),
            },
        ))
        .await
        .expect("publish");
    actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    assert!(
        sent(&scrape().await) >= before + 2.0,
        "outgoing WebSocket messages are counted"
    );
}

#[actix_web::test]
async fn logging_out_everywhere_ends_every_session_of_the_user() {
    let app = spawn_app().await;
    let u = member(&app).await;
    let other_device = crate::helpers::Client::new(&app);
    assert_eq!(
        other_device
            .login(&u.email, crate::helpers::PASSWORD)
            .await
            .status,
        303
    );
    let mut ws = connect(&app, &u).await;
    let token = u.client.csrf("/settings").await;
    let res = u
        .client
        .post_form("/logout-everywhere", &[("csrf_token", &token)])
        .await;
    assert_eq!(res.status, 303);
    assert_eq!(
        other_device.get("/settings").await.status,
        303,
        "the other device is signed out"
    );
    assert_eq!(u.client.get("/settings").await.status, 303);
    loop {
        match next(&mut ws, Duration::from_secs(5)).await {
            Next::Closed => break,
            Next::Json(_) => continue,
            Next::Timeout => panic!("the WebSocket stayed open"),
        }
    }
}

/// Two nodes sharing a database and Redis: an admin on node 1 disconnects a user whose WebSocket is
/// on node 2 (the `buko:admin:control` channel), through the test Redis.
#[actix_web::test]
async fn disconnect_reaches_sessions_on_another_node() {
    let redis = crate::redis_support::shared_url();
    let url = redis.clone();
    let node1 = crate::helpers::spawn_app_with(|s| {
        s.redis_url = Some(buko::secret::Secret::new(url));
    })
    .await;
    let (db, url) = (node1.database_url.clone(), redis.clone());
    let node2 = crate::helpers::spawn_app_with(|s| {
        s.redis_url = Some(buko::secret::Secret::new(url));
        s.database_url = buko::secret::Secret::new(db);
    })
    .await;
    let a = admin(&node1).await;
    let u = member(&node1).await;
    // The same signed cookie is valid on node 2 (same secret key, same database).
    let (res, mut ws) = awc::Client::new()
        .ws(format!("{}/ws", node2.base))
        .set_header("cookie", u.client.cookie_header())
        .connect()
        .await
        .expect("ws to node 2");
    assert_eq!(res.status().as_u16(), 101);
    // Both nodes' listeners subscribe at start; give them a moment.
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    let res = act(&a, &format!("/admin/users/{}/disconnect", u.id), &[]).await;
    assert_eq!(res.status, 303);
    loop {
        match next(&mut ws, Duration::from_secs(5)).await {
            Next::Closed => break,
            Next::Json(_) => continue,
            Next::Timeout => panic!("the session on node 2 stayed open"),
        }
    }
}
