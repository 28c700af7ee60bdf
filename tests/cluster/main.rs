//! Multi-node tests: real `buko serve` processes sharing one PostgreSQL database and Redis.
//! They always run against PostgreSQL and Redis (started by scripts/test.sh), once per suite. The
//! deployment tests add real nginx, PgBouncer and promtool (scripts/install-deploy-tools.sh).

mod daemons;
mod nginx;
mod node;
mod ops;
mod pgbouncer;
mod pool;
mod shutdown;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use futures_util::{SinkExt, StreamExt};

use node::{free_port, Api, Cluster};

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn chunk_seqs(db: &mut PgConnection, book_id: &str) -> Vec<i64> {
    #[derive(QueryableByName)]
    struct Seq {
        #[diesel(sql_type = BigInt)]
        seq: i64,
    }
    diesel::sql_query("SELECT seq FROM chunks WHERE book_id = $1 ORDER BY seq")
        .bind::<Text, _>(book_id)
        .load::<Seq>(db)
        .expect("chunks")
        .into_iter()
        .map(|s| s.seq)
        .collect()
}

fn assert_every_chunk_once(db: &mut PgConnection, book: &serde_json::Value) {
    let id = book["id"].as_str().expect("id");
    let total = book["progress"]["chunks_total"]
        .as_i64()
        .expect("chunks_total");
    assert!(total > 0, "{book}");
    assert_eq!(
        chunk_seqs(db, id),
        (1..=total).collect::<Vec<_>>(),
        "every chunk exactly once, in order"
    );
}

#[actix_web::test]
async fn a_subscriber_on_one_node_sees_every_event_of_a_book_written_by_another() {
    let cluster = Cluster::new();
    let web = cluster.start_node("web", &["--no-worker"], &[]);
    let worker = cluster.start_node("worker", &[], &[]);
    web.wait_ready().await;
    worker.wait_ready().await;
    let key = cluster.api_key("reader@example.com");
    let api = Api::new(&web, &key);

    let (_res, mut ws) = awc::Client::new()
        .ws(format!("ws://127.0.0.1:{}/ws?api_key={key}", web.port))
        .connect()
        .await
        .expect("websocket on the web node");
    let book_id = api.create_book(10).await;
    let sub = serde_json::json!({ "type": "subscribe", "book_id": book_id, "after_seq": 0 });
    ws.send(awc::ws::Message::Text(sub.to_string().into()))
        .await
        .expect("subscribe");

    let mut seqs = Vec::new();
    let mut approved = false;
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        let frame = actix_web::rt::time::timeout(Duration::from_secs(30), ws.next()).await;
        let Ok(Some(Ok(frame))) = frame else {
            panic!("websocket ended or went quiet; web log:\n{}", web.log())
        };
        let awc::ws::Frame::Text(text) = frame else {
            continue;
        };
        let msg: serde_json::Value = serde_json::from_slice(&text).expect("json frame");
        if msg["type"] != "event" {
            continue;
        }
        seqs.push(msg["seq"].as_i64().expect("seq"));
        let status = msg["data"]["status"].as_str().unwrap_or("");
        if status == "architecture_ready" && !approved {
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
    assert!(approved, "the architecture event crossed nodes");
    let book = api
        .wait_status(&book_id, &["completed"], Duration::from_secs(30))
        .await;
    let unique: BTreeSet<i64> = seqs.iter().copied().collect();
    assert_eq!(unique.len(), seqs.len(), "no event twice: {seqs:?}");
    let (_, events) = api
        .call(
            "GET",
            &format!("/api/v1/books/{book_id}/events?after=0"),
            None,
        )
        .await;
    let stored = events.as_array().expect("events").len() as i64;
    let last = *seqs.last().expect("events arrived");
    assert_eq!(
        seqs,
        (1..=last).collect::<Vec<_>>(),
        "every event, in order, no gap"
    );
    assert!(stored >= last, "the subscriber saw what the database holds");
    assert_every_chunk_once(&mut cluster.db(), &book);
}

#[actix_web::test]
async fn a_killed_writer_is_replaced_within_30_seconds_and_nothing_is_lost() {
    let mut cluster = Cluster::new();
    // Slow enough that the book is mid-way when its node dies.
    cluster
        .extra_env
        .push(("BUKO_OFFLINE_TOKENS_PER_SEC".into(), "250".into()));
    let mut first = cluster.start_node("first", &[], &[]);
    first.wait_ready().await;
    let key = cluster.api_key("author@example.com");
    let api = Api::new(&first, &key);
    let book_id = api.approved_book(12).await;

    let mut db = cluster.db();
    let deadline = Instant::now() + Duration::from_secs(60);
    while chunk_seqs(&mut db, &book_id).is_empty() {
        assert!(
            Instant::now() < deadline,
            "no chunk was written; log:\n{}",
            first.log()
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    let second = cluster.start_node("second", &[], &[]);
    second.wait_ready().await;
    let before = chunk_seqs(&mut db, &book_id).len();
    first.kill9();
    let killed_at = Instant::now();

    let api = Api::new(&second, &key);
    loop {
        if chunk_seqs(&mut db, &book_id).len() > before {
            break;
        }
        assert!(
            killed_at.elapsed() < Duration::from_secs(30),
            "not resumed within 30 s; log:\n{}",
            second.log()
        );
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    }
    let resumed_after = killed_at.elapsed();
    let book = api
        .wait_status(&book_id, &["completed"], Duration::from_secs(180))
        .await;
    assert_every_chunk_once(&mut db, &book);
    eprintln!("resumed {resumed_after:?} after kill -9");
}

#[actix_web::test]
async fn concurrent_architecture_requests_across_two_nodes_admit_exactly_the_quota() {
    let cluster = Cluster::new();
    let a = cluster.start_node("a", &["--no-worker"], &[]);
    let b = cluster.start_node("b", &["--no-worker"], &[]);
    a.wait_ready().await;
    b.wait_ready().await;
    let key = cluster.api_key("eager@example.com");
    let (api_a, api_b) = (Api::new(&a, &key), Api::new(&b, &key));
    let body = || Some(serde_json::json!({ "idea": "A bakery that only opens during eclipses" }));
    let requests = (0..100).map(|i| {
        let api = if i % 2 == 0 { &api_a } else { &api_b };
        api.call("POST", "/api/v1/books", body())
    });
    let results = futures_util::future::join_all(requests).await;
    let admitted = results.iter().filter(|(s, _)| *s == 202).count();
    let limited = results
        .iter()
        .filter(|(s, b)| *s == 429 && b["error"] == "rate_limited")
        .count();
    assert_eq!(
        admitted, 3,
        "free plan: 3 architectures per hour, across nodes"
    );
    assert_eq!(limited, 97);
    let n: Count = diesel::sql_query("SELECT count(*) AS n FROM books")
        .get_result(&mut cluster.db())
        .expect("count");
    assert_eq!(n.n, 3, "refused requests wrote nothing");
}

#[actix_web::test]
async fn redis_going_away_mid_run_loses_nothing_and_readiness_says_so() {
    let redis_port = free_port();
    let start_redis = || {
        std::process::Command::new("redis-server")
            .args([
                "--port",
                &redis_port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server")
    };
    let mut redis = start_redis();
    let mut cluster = Cluster::new();
    cluster.redis_url = format!("redis://127.0.0.1:{redis_port}");
    cluster
        .extra_env
        .push(("BUKO_OFFLINE_TOKENS_PER_SEC".into(), "400".into()));
    let node = cluster.start_node("solo", &[], &[]);
    node.wait_ready().await;
    let key = cluster.api_key("calm@example.com");
    let api = Api::new(&node, &key);
    let book_id = api.approved_book(10).await;
    api.wait_status(&book_id, &["generating"], Duration::from_secs(30))
        .await;

    let _ = redis.kill();
    let _ = redis.wait();
    let http = awc::Client::default();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut res = http
            .get(format!("{}/health/ready", node.base))
            .send()
            .await
            .expect("ready");
        let body: serde_json::Value = res.json().await.unwrap_or_default();
        if body["checks"]["redis"]["error"].is_string() {
            assert_eq!(
                body["status"], "degraded",
                "Redis away degrades the node, it does not take it down"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "readiness never reported Redis down: {body}"
        );
        actix_web::rt::time::sleep(Duration::from_millis(250)).await;
    }
    let book = api
        .wait_status(&book_id, &["completed"], Duration::from_secs(180))
        .await;
    assert_every_chunk_once(&mut cluster.db(), &book);

    let mut redis = start_redis();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let res = http
            .get(format!("{}/health/ready", node.base))
            .send()
            .await
            .expect("ready");
        if res.status().is_success() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "readiness did not recover with Redis"
        );
        actix_web::rt::time::sleep(Duration::from_millis(250)).await;
    }
    let _ = redis.kill();
    let _ = redis.wait();
}
