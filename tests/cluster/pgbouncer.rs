//! Buko through a real PgBouncer in transaction mode (`deploy/pgbouncer/pgbouncer.ini`): the pool
//! sends no named prepared statements, migrations and LISTEN take the direct URL, and a whole book —
//! with a node killed mid-way — comes out whole.

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use super::daemons;
use super::node::{Api, Cluster};

fn pooled_url(cluster: &Cluster, port: u16) -> String {
    let (_, db) = cluster.database_url.rsplit_once('/').expect("db");
    format!("postgres://postgres@127.0.0.1:{port}/{db}")
}

/// The same query (with a bind, as all of Buko's are) from two clients that share one server
/// connection. Diesel's query builder caches it as a named prepared statement per client.
fn two_clients(manager: impl Fn() -> buko::db::ConnectionManager) -> Result<(), String> {
    use diesel::sql_types::Integer;
    let connect = || {
        r2d2::ManageConnection::connect(&manager())
            .map(buko::db::Pooled::into_inner)
            .map_err(|e| e.to_string())
    };
    let (mut first, mut second) = (connect()?, connect()?);
    for c in [&mut first, &mut second] {
        for v in [1, 2] {
            let got: i32 = diesel::select(v.into_sql::<Integer>() + 1)
                .get_result(c)
                .map_err(|e| e.to_string())?;
            assert_eq!(got, 1 + v);
        }
    }
    Ok(())
}

#[actix_web::test]
async fn named_prepared_statements_break_under_transaction_pooling_and_the_pooled_manager_avoids_them(
) {
    let cluster = Cluster::new();
    // One server connection: every client's statements land on it.
    let bouncer = daemons::pgbouncer(&cluster.database_url, Some(1));
    let url = pooled_url(&cluster, bouncer.port);
    let named = two_clients(|| buko::db::ConnectionManager::new(&url));
    let err =
        named.expect_err("diesel's cached statements collide on the shared server connection");
    assert!(err.contains("prepared statement"), "{err}");
    two_clients(|| buko::db::ConnectionManager::through_pooler(&url))
        .expect("unnamed statements work through the pooler");
}

#[actix_web::test]
async fn nodes_work_through_pgbouncer_in_transaction_mode_and_survive_a_kill() {
    let mut cluster = Cluster::new();
    let bouncer = daemons::pgbouncer(&cluster.database_url, None);
    let config = daemons::pgbouncer_admin(bouncer.port, "postgres", "SHOW CONFIG");
    assert!(
        config
            .lines()
            .any(|l| l.starts_with("pool_mode|transaction")),
        "{config}"
    );
    let direct = cluster.database_url.clone();
    cluster.database_url = pooled_url(&cluster, bouncer.port);
    cluster.extra_env.extend([
        ("BUKO_DATABASE_DIRECT_URL".to_string(), direct),
        ("BUKO_OFFLINE_TOKENS_PER_SEC".into(), "300".into()),
        ("BUKO_JOB_LEASE_SECS".into(), "6".into()),
        ("BUKO_JOB_HEARTBEAT_SECS".into(), "2".into()),
        ("BUKO_JOB_SWEEP_SECS".into(), "2".into()),
        // Idle workers look at the queue once a minute: only a NOTIFY wakes them sooner.
        ("BUKO_JOB_POLL_MS".into(), "60000".into()),
    ]);
    // Migrations (advisory lock on the direct URL) run as the nodes start, both at once.
    let web = cluster.start_node("web", &["--no-worker"], &[]);
    let mut worker = cluster.start_node("worker", &[], &[]);
    web.wait_ready().await;
    worker.wait_ready().await;
    let key = cluster.api_key("pooled@example.com");
    let api = Api::new(&web, &key);

    // LISTEN wake-up: the worker claims the architecture job long before its next poll.
    let asked = Instant::now();
    let book_id = api.create_book(12).await;
    api.wait_status(&book_id, &["architecture_ready"], Duration::from_secs(20))
        .await;
    assert!(
        asked.elapsed() < Duration::from_secs(20),
        "woken by NOTIFY through the direct connection"
    );
    let (code, body) = api
        .call("POST", &format!("/api/v1/books/{book_id}/approve"), None)
        .await;
    assert_eq!(code, 202, "{body}");

    let mut db = cluster.db_direct(&direct_of(&cluster));
    let deadline = Instant::now() + Duration::from_secs(60);
    while super::chunk_seqs(&mut db, &book_id).is_empty() {
        assert!(
            Instant::now() < deadline,
            "no chunk; log:\n{}",
            worker.log()
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    let second = cluster.start_node("second", &[], &[]);
    second.wait_ready().await;
    worker.kill9();
    let book = api
        .wait_status(&book_id, &["completed"], Duration::from_secs(180))
        .await;
    super::assert_every_chunk_once(&mut db, &book);
    let clients = daemons::pgbouncer_admin(bouncer.port, "postgres", "SHOW CLIENTS");
    assert!(
        !clients.trim().is_empty(),
        "the nodes were PgBouncer's clients"
    );
    db.batch_execute("SELECT 1")
        .expect("direct connection still fine");
}

fn direct_of(cluster: &Cluster) -> String {
    cluster
        .extra_env
        .iter()
        .find(|(k, _)| k == "BUKO_DATABASE_DIRECT_URL")
        .map(|(_, v)| v.clone())
        .expect("direct url")
}
