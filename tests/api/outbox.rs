//! Durable events are written with the state change they report (an outbox): a crash between the two
//! can no longer leave a committed chunk without its `chunk_completed`, nor write the last
//! `chapter_completed` twice. The crash is simulated inside the database: a trigger fails the write
//! at that point (as a process dying there would leave it), then the book is run again as the queue
//! would after the crash.

use std::collections::BTreeMap;

use buko::db::{schema::*, DbConn};
use buko::runner::RunOutcome;
use buko_actors::Fence;
use diesel::prelude::*;

use crate::runner::{approve, insert_book, setup};

/// Installs a trigger that aborts any write matching `when` on `table` (`INSERT` or `UPDATE`).
fn crash_when(conn: &mut DbConn, name: &str, op: &str, table: &str, when: &str) {
    let statements = match conn {
        DbConn::Sqlite(_) => vec![format!(
            "CREATE TRIGGER {name} BEFORE {op} ON {table} WHEN {when} \
             BEGIN SELECT RAISE(ABORT, 'injected crash'); END"
        )],
        DbConn::Pg(_) => vec![
            format!(
                "CREATE FUNCTION {name}() RETURNS trigger AS $$ \
                 BEGIN RAISE EXCEPTION 'injected crash'; END $$ LANGUAGE plpgsql"
            ),
            format!(
                "CREATE TRIGGER {name} BEFORE {op} ON {table} FOR EACH ROW WHEN ({when}) \
                 EXECUTE FUNCTION {name}()"
            ),
        ],
    };
    for s in statements {
        diesel::sql_query(s).execute(conn).expect("trigger");
    }
}

fn recover(conn: &mut DbConn, name: &str, table: &str) {
    let s = match conn {
        DbConn::Sqlite(_) => format!("DROP TRIGGER {name}"),
        DbConn::Pg(_) => format!("DROP TRIGGER {name} ON {table}"),
    };
    diesel::sql_query(s).execute(conn).expect("drop trigger");
}

/// `(kind, key)` → how many events of that kind the book has for that chunk seq / chapter index.
fn event_counts(conn: &mut DbConn, book_id: &str, kind: &str, key: &str) -> BTreeMap<i64, usize> {
    let rows: Vec<String> = events::table
        .filter(events::book_id.eq(book_id))
        .filter(events::kind.eq(kind))
        .select(events::data)
        .load(conn)
        .expect("events");
    let mut counts = BTreeMap::new();
    for data in rows {
        let v: serde_json::Value = serde_json::from_str(&data).expect("json");
        *counts.entry(v[key].as_i64().expect("key")).or_default() += 1;
    }
    counts
}

fn chunk_seqs(conn: &mut DbConn, book_id: &str) -> Vec<i64> {
    chunks::table
        .filter(chunks::book_id.eq(book_id))
        .order(chunks::seq)
        .select(chunks::seq)
        .load(conn)
        .expect("seqs")
}

fn event_seqs_have_no_gap(conn: &mut DbConn, book_id: &str) {
    let seqs: Vec<i64> = events::table
        .filter(events::book_id.eq(book_id))
        .order(events::seq)
        .select(events::seq)
        .load(conn)
        .expect("events");
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
}

async fn approved_book(s: &crate::runner::Setup, conn: &mut DbConn) -> (String, usize) {
    let book_id = insert_book(conn, "en");
    assert_eq!(
        s.runner.architecture(&book_id).await,
        RunOutcome::Done("architecture ready".into())
    );
    let chapters = approve(conn, &book_id).chapters.len();
    (book_id, chapters)
}

#[actix_web::test]
async fn a_crash_at_a_chunks_event_leaves_no_chunk_without_its_chunk_completed() {
    let s = setup().await;
    let mut pooled = s.pool.get().expect("conn");
    let conn: &mut buko::db::DbConn = &mut pooled;
    let (book_id, _) = approved_book(&s, conn).await;
    // Dies where chunk 2's `chunk_completed` is written.
    crash_when(
        conn,
        "crash_at_chunk_event",
        "INSERT",
        "events",
        r#"NEW.kind = 'chunk_completed' AND NEW.data LIKE '%"seq":2,%'"#,
    );
    let first = s.runner.book(&book_id, Fence(1), None).await;
    assert!(
        matches!(first, RunOutcome::Failed(_)),
        "the run stopped at the crash: {first:?}"
    );
    let before = event_counts(conn, &book_id, "chunk_completed", "seq");
    for seq in chunk_seqs(conn, &book_id) {
        assert_eq!(
            before.get(&seq),
            Some(&1),
            "chunk {seq} is committed, so its chunk_completed is too"
        );
    }

    recover(conn, "crash_at_chunk_event", "events");
    assert_eq!(
        s.runner.book(&book_id, Fence(2), None).await,
        RunOutcome::Done("completed".into())
    );
    let seqs = chunk_seqs(conn, &book_id);
    let counts = event_counts(conn, &book_id, "chunk_completed", "seq");
    assert_eq!(
        counts,
        seqs.iter().map(|s| (*s, 1)).collect::<BTreeMap<_, _>>(),
        "every committed chunk has exactly one chunk_completed"
    );
    event_seqs_have_no_gap(conn, &book_id);
}

#[actix_web::test]
async fn a_crash_before_completion_does_not_write_the_last_chapter_completed_twice() {
    let s = setup().await;
    let mut pooled = s.pool.get().expect("conn");
    let conn: &mut buko::db::DbConn = &mut pooled;
    let (book_id, chapters) = approved_book(&s, conn).await;
    // Dies where the book is marked completed (after every chapter was written).
    crash_when(
        conn,
        "crash_at_completion",
        "UPDATE",
        "books",
        "NEW.status = 'completed'",
    );
    let first = s.runner.book(&book_id, Fence(1), None).await;
    assert!(
        matches!(first, RunOutcome::Failed(_)),
        "the run stopped at the crash: {first:?}"
    );
    recover(conn, "crash_at_completion", "books");
    assert_eq!(
        s.runner.book(&book_id, Fence(2), None).await,
        RunOutcome::Done("completed".into())
    );
    let counts = event_counts(conn, &book_id, "chapter_completed", "chapter_index");
    assert_eq!(
        counts,
        (0..chapters as i64)
            .map(|c| (c, 1))
            .collect::<BTreeMap<_, _>>(),
        "each chapter completed exactly once"
    );
    let completed: i64 = events::table
        .filter(events::book_id.eq(&book_id))
        .filter(events::kind.eq("book_completed"))
        .count()
        .get_result(conn)
        .expect("count");
    assert_eq!(completed, 1);
    let status: String = books::table
        .find(&book_id)
        .select(books::status)
        .first(conn)
        .expect("book");
    assert_eq!(status, "completed");
    event_seqs_have_no_gap(conn, &book_id);
}
