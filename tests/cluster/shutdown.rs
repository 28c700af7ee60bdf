//! SIGTERM: a node writing a book lets go of it at once — it exits within 10 s, its WebSockets are
//! closed with 1012 "service restart", and another node resumes the book within 5 s (not after the
//! 15 s lease).

use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel::sql_types::Text;
use futures_util::{SinkExt, StreamExt};

use super::node::{Api, Cluster};

#[derive(QueryableByName)]
struct Owner {
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    locked_by: Option<String>,
}

/// The worker holding the book's running job, if any.
fn owner(db: &mut PgConnection, book_id: &str) -> Option<String> {
    diesel::sql_query(
        "SELECT locked_by FROM jobs WHERE queue = 'book' AND status = 'running' AND payload LIKE $1",
    )
    .bind::<Text, _>(format!("%{book_id}%"))
    .load::<Owner>(db)
    .expect("jobs")
    .into_iter()
    .find_map(|o| o.locked_by)
}

#[actix_web::test]
async fn sigterm_releases_the_book_at_once_and_closes_websockets_for_reconnection() {
    let mut cluster = Cluster::new();
    cluster
        .extra_env
        .push(("BUKO_OFFLINE_TOKENS_PER_SEC".into(), "250".into()));
    let mut a = cluster.start_node("a", &[], &[("BUKO_NODE_ID", "node-a")]);
    let mut b = cluster.start_node("b", &[], &[("BUKO_NODE_ID", "node-b")]);
    a.wait_ready().await;
    b.wait_ready().await;
    let key = cluster.api_key("patient@example.com");
    let api = Api::new(&a, &key);
    let book_id = api.approved_book(12).await;

    let mut db = cluster.db();
    let deadline = Instant::now() + Duration::from_secs(60);
    let writer = loop {
        if let Some(w) = owner(&mut db, &book_id) {
            if !super::chunk_seqs(&mut db, &book_id).is_empty() {
                break w;
            }
        }
        assert!(Instant::now() < deadline, "the book never started");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    };
    let (writing, other, other_prefix) = if writer.starts_with("node-a/") {
        (&mut a, &b, "node-b/")
    } else {
        (&mut b, &a, "node-a/")
    };

    // A reader on the node about to go.
    let (_res, mut ws) = awc::Client::new()
        .ws(format!("ws://127.0.0.1:{}/ws?api_key={key}", writing.port))
        .connect()
        .await
        .expect("websocket");
    let sub = serde_json::json!({ "type": "subscribe", "book_id": book_id, "after_seq": 0 });
    ws.send(awc::ws::Message::Text(sub.to_string().into()))
        .await
        .expect("subscribe");
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;

    let before = super::chunk_seqs(&mut db, &book_id).len();
    let sent = Instant::now();
    writing.sigterm();
    let exit = async {
        let exited = writing.wait_exit(Duration::from_secs(10)).await;
        (exited, sent.elapsed())
    };
    let take_over = async {
        loop {
            if owner(&mut db, &book_id).is_some_and(|o| o.starts_with(other_prefix)) {
                return Some(sent.elapsed());
            }
            if sent.elapsed() > Duration::from_secs(5) {
                return None;
            }
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let ((exited, took), taken_over) = tokio::join!(exit, take_over);
    let log = writing.log();
    assert!(exited, "still running 10 s after SIGTERM; log:\n{log}");
    let taken_over = taken_over.unwrap_or_else(|| {
        panic!("the other node did not resume within 5 s; terminated node log:\n{log}")
    });
    assert!(log.contains("job released at shutdown"), "{log}");

    // The WebSocket was closed with "service restart".
    let mut close = None;
    while let Ok(Some(frame)) =
        actix_web::rt::time::timeout(Duration::from_secs(5), ws.next()).await
    {
        if let Ok(awc::ws::Frame::Close(reason)) = frame {
            close = reason;
            break;
        }
    }
    let close = close.expect("a close frame with a reason");
    assert_eq!(u16::from(close.code), 1012, "{close:?}");

    let api = Api::new(other, &key);
    let book = api
        .wait_status(&book_id, &["completed"], Duration::from_secs(180))
        .await;
    assert!(super::chunk_seqs(&mut db, &book_id).len() > before);
    super::assert_every_chunk_once(&mut db, &book);
    eprintln!("exited {took:?} after SIGTERM; resumed elsewhere after {taken_over:?}");
}
