//! The database pool's checkout check on real PostgreSQL: a connection just given back is handed out
//! without a `SELECT 1`; one whose server process died is found out by its first failed statement and
//! dropped, and the pool serves the next request with a new connection.

use std::time::Duration;

use buko::db::{self, ConnectionManager, DbError};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Integer;
use r2d2::ManageConnection;

use crate::node::{postgres_admin_url, Cluster};

#[derive(QueryableByName)]
struct Pid {
    #[diesel(sql_type = Integer)]
    pid: i32,
}

fn backend_pid(c: &mut db::DbConn) -> i32 {
    diesel::sql_query("SELECT pg_backend_pid() AS pid")
        .get_result::<Pid>(c)
        .expect("pid")
        .pid
}

/// Ends a server process the way a PostgreSQL restart or an idle timeout would.
fn terminate(pid: i32) {
    let mut admin = PgConnection::establish(&postgres_admin_url()).expect("admin");
    admin
        .batch_execute(&format!("SELECT pg_terminate_backend({pid})"))
        .expect("terminate");
    // The backend is gone once pg_stat_activity no longer lists it.
    for _ in 0..100 {
        let alive: i64 = diesel::sql_query(format!(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE pid = {pid}"
        ))
        .get_result::<crate::Count>(&mut admin)
        .expect("activity")
        .n;
        if alive == 0 {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("backend {pid} still alive");
}

#[test]
fn a_fresh_connection_skips_the_check_and_a_dead_one_is_found_and_dropped() {
    let cluster = Cluster::new();
    let manager = ConnectionManager::new(&cluster.database_url);
    let mut conn = manager.connect().expect("connect");
    let pid = backend_pid(&mut conn);
    assert!(
        !manager.has_broken(&mut conn),
        "a working connection goes back"
    );
    terminate(pid);
    // Given back a moment ago: handed out without a round trip (a SELECT 1 would fail now).
    manager
        .is_valid(&mut conn)
        .expect("no check within the idle window");
    // Its first statement fails on the closed connection, and the pool drops it on return.
    assert!(conn.batch_execute("SELECT 1").is_err());
    assert!(conn.lost());
    assert!(
        manager.has_broken(&mut conn),
        "a lost connection is dropped"
    );

    // Idle for longer than the window: checked, and the dead one refused at checkout.
    let strict = ConnectionManager::new(&cluster.database_url).check_if_idle(Duration::ZERO);
    let mut idle = strict.connect().expect("connect");
    let pid = backend_pid(&mut idle);
    assert!(!strict.has_broken(&mut idle));
    terminate(pid);
    assert!(
        strict.is_valid(&mut idle).is_err(),
        "an idle dead connection is refused"
    );

    // A statement error that is the statement's fault does not drop the connection.
    let mut fine = manager.connect().expect("connect");
    assert!(fine.batch_execute("SELECT * FROM no_such_table").is_err());
    assert!(!fine.lost());
    assert!(!manager.has_broken(&mut fine));
}

#[actix_web::test]
async fn the_pool_replaces_a_connection_whose_server_process_died() {
    let cluster = Cluster::new();
    let pool = db::build_pool(&cluster.database_url, 1).expect("pool");
    let pid = db::run(&pool, |c| Ok(backend_pid(c))).await.expect("pid");
    terminate(pid);
    // The one pooled connection was used a moment ago, so it is handed out unchecked: this request
    // meets the closed connection and fails as a transient error…
    let err = db::run(&pool, |c| Ok(c.batch_execute("SELECT 1")?))
        .await
        .expect_err("the dead connection fails once");
    assert!(
        matches!(err, DbError::Query(_)) && err.is_transient(),
        "{err}"
    );
    // …and is dropped on return: the next request gets a new server process.
    let next = db::run(&pool, |c| Ok(backend_pid(c))).await.expect("pid");
    assert_ne!(next, pid);
}
