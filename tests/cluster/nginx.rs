//! Two nodes behind a real nginx running `deploy/nginx/buko.conf`: a book written through the proxy,
//! its WebSocket through the proxy, and per-IP limits keyed on the client nginx saw — never on a
//! header an untrusted peer wrote.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};

use super::daemons;
use super::node::{Api, Cluster};

/// Nodes trust exactly the proxy's address (nginx reaches them from 127.0.0.1).
const TRUSTED: (&str, &str) = ("BUKO_TRUSTED_PROXIES", "127.0.0.1/32");

/// A random loopback address other than 127.0.0.1: a "client machine" of its own, so limiter
/// windows (in the shared Redis, for a minute) never collide across tests or runs.
fn client_ip() -> IpAddr {
    let b: [u8; 3] = rand::random();
    IpAddr::from([127, b[0], b[1], b[2].max(2)])
}

#[actix_web::test]
async fn a_book_written_through_nginx_reaches_its_websocket_event_by_event() {
    let cluster = Cluster::new();
    let a = cluster.start_node("a", &[], &[TRUSTED]);
    let b = cluster.start_node("b", &[], &[TRUSTED]);
    a.wait_ready().await;
    b.wait_ready().await;
    let proxy = daemons::nginx(&[a.port, b.port]);
    let base = format!("http://127.0.0.1:{}", proxy.port);
    let key = cluster.api_key("proxied@example.com");
    let api = Api::at(&base, &key, None);

    let (res, mut ws) = awc::Client::new()
        .ws(format!("ws://127.0.0.1:{}/ws?api_key={key}", proxy.port))
        .connect()
        .await
        .expect("websocket upgrade through nginx");
    assert_eq!(res.status().as_u16(), 101);
    let book_id = api.create_book(10).await;
    let sub = serde_json::json!({ "type": "subscribe", "book_id": book_id, "after_seq": 0 });
    ws.send(awc::ws::Message::Text(sub.to_string().into()))
        .await
        .expect("subscribe");

    let (mut seqs, mut approved, mut deltas) = (Vec::new(), false, 0);
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        let frame = actix_web::rt::time::timeout(Duration::from_secs(30), ws.next()).await;
        let Ok(Some(Ok(awc::ws::Frame::Text(text)))) = frame else {
            if let Ok(Some(Ok(_))) = frame {
                continue;
            }
            panic!(
                "websocket through nginx ended: {frame:?}\nnginx:\n{}",
                proxy.log()
            );
        };
        let msg: serde_json::Value = serde_json::from_slice(&text).expect("json");
        if msg["type"] == "delta" {
            deltas += 1;
        }
        if msg["type"] != "event" {
            continue;
        }
        seqs.push(msg["seq"].as_i64().expect("seq"));
        if msg["data"]["status"] == "architecture_ready" && !approved {
            let (code, body) = api
                .call("POST", &format!("/api/v1/books/{book_id}/approve"), None)
                .await;
            assert_eq!(code, 202, "{body}");
            approved = true;
        }
        if msg["kind"] == "book_completed" {
            break;
        }
    }
    assert!(approved);
    let last = *seqs.last().expect("events");
    assert_eq!(
        seqs,
        (1..=last).collect::<Vec<_>>(),
        "every event once, in order"
    );
    assert!(deltas > 0, "streamed text crossed the proxy too");
    let book = api
        .wait_status(&book_id, &["completed"], Duration::from_secs(30))
        .await;
    super::assert_every_chunk_once(&mut cluster.db(), &book);

    // The proxy's other duties: gzip, static caching, metrics kept inside.
    let mut res = awc::Client::new()
        .get(format!("{base}/static/style.css"))
        .insert_header(("accept-encoding", "gzip"))
        .send()
        .await
        .expect("static");
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(
        res.headers()
            .get("content-encoding")
            .map(|v| v.to_str().unwrap_or("")),
        Some("gzip")
    );
    assert!(res.headers().get("expires").is_some());
    let _ = res.body().await;
    let res = awc::Client::new()
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("metrics");
    assert_eq!(
        res.status().as_u16(),
        404,
        "metrics are not served to the public"
    );
}

#[actix_web::test]
async fn per_ip_limits_follow_the_trusted_proxy_and_ignore_spoofed_headers() {
    let mut cluster = Cluster::new();
    cluster
        .extra_env
        .push(("BUKO_RATE_IP_PER_MIN".into(), "5".into()));
    let a = cluster.start_node("a", &["--no-worker"], &[TRUSTED]);
    let b = cluster.start_node("b", &["--no-worker"], &[TRUSTED]);
    a.wait_ready().await;
    b.wait_ready().await;
    let proxy = daemons::nginx(&[a.port, b.port]);
    let base = format!("http://127.0.0.1:{}", proxy.port);
    let key = cluster.api_key("limited@example.com");
    let (ip_a, ip_b) = (client_ip(), client_ip());
    let (alice, bob) = (
        Api::at(&base, &key, Some(ip_a)),
        Api::at(&base, &key, Some(ip_b)),
    );

    // Alice uses her five requests (spread over both nodes by nginx; the window is in Redis).
    for i in 0..5 {
        let (code, body) = alice.call("GET", "/api/v1/books", None).await;
        assert_eq!(code, 200, "request {i}: {body}");
    }
    let (code, body) = alice.call("GET", "/api/v1/books", None).await;
    assert_eq!(
        (code, body["error"].as_str()),
        (429, Some("rate_limited")),
        "{body}"
    );
    // Bob, another address behind the same proxy, has his own window.
    let (code, body) = bob.call("GET", "/api/v1/books", None).await;
    assert_eq!(
        code, 200,
        "a second client is not limited by the first: {body}"
    );
    // Alice cannot escape by writing her own X-Forwarded-For: nginx appends her real address and
    // that rightmost untrusted hop is what counts.
    let forged = [("x-forwarded-for", "198.51.100.77")];
    let (code, _) = alice.call_with("GET", "/api/v1/books", None, &forged).await;
    assert_eq!(
        code, 429,
        "a forged header through the proxy changes nothing"
    );

    // Straight to a node from an untrusted peer: the header is ignored, the socket address counts.
    let mallory_ip = client_ip();
    let mallory = Api::at(&a.base, &key, Some(mallory_ip));
    for i in 0..5 {
        let spoof = format!("203.0.113.{i}");
        let (code, body) = mallory
            .call_with("GET", "/api/v1/books", None, &[("x-forwarded-for", &spoof)])
            .await;
        assert_eq!(code, 200, "request {i}: {body}");
    }
    let (code, _) = mallory
        .call_with(
            "GET",
            "/api/v1/books",
            None,
            &[("x-forwarded-for", "203.0.113.99")],
        )
        .await;
    assert_eq!(
        code, 429,
        "a spoofed header from an untrusted peer picks no new bucket"
    );
}
