//! The engine writing real books into the real database through `DbBookStore` and `Runner`: the
//! architecture job, the book job, and fencing of a stale owner.

use std::sync::Arc;

use buko::db::repo::engine as queries;
use buko::db::{self, schema::*, DbPool};
use buko::runner::{RunOutcome, Runner};
use buko::store::DbBookStore;
use buko_actors::{
    Architecture, ChunkCommit, Engine, EngineConfig, Fence, NoRemote, SystemClock, Usage,
};
use diesel::prelude::*;

use crate::helpers::test_settings;

pub struct Setup {
    pub runner: Runner,
    pub pool: DbPool,
    _dir: tempfile::TempDir,
    _pg: Option<crate::helpers::PgGuard>,
}

pub async fn setup() -> Setup {
    let dir = tempfile::tempdir().expect("tmp");
    let (settings, pg) = test_settings(dir.path());
    let pool = db::build_pool(settings.database_url.expose(), 4).expect("pool");
    buko::db::migrate_pool(&pool).await.expect("migrate");
    let engine = Engine::start(
        buko::llm::build_provider(&settings.llm),
        Arc::new(DbBookStore::new(pool.clone())),
        Arc::new(NoRemote),
        Arc::new(SystemClock),
        EngineConfig::default(),
    );
    Setup {
        runner: Runner::new(engine, pool.clone()),
        pool,
        _dir: dir,
        _pg: pg.map(crate::helpers::PgGuard),
    }
}

/// A user and a book waiting for its architecture.
pub fn insert_book(conn: &mut db::DbConn, language: &str) -> String {
    let user = db::repo::users::create(
        conn,
        db::repo::users::NewUser {
            email: &crate::helpers::unique_email(),
            password_hash: "x".into(),
            role: "user",
            locale: None,
        },
    )
    .expect("user");
    let id = db::new_id();
    let t = db::now();
    diesel::insert_into(books::table)
        .values((
            books::id.eq(&id),
            books::user_id.eq(&user.id),
            books::idea.eq("A lighthouse keeper finds letters from the future"),
            books::language.eq(language),
            books::target_pages.eq(20),
            books::status.eq("architecture_pending"),
            books::created_at.eq(t),
            books::updated_at.eq(t),
        ))
        .execute(conn)
        .expect("book");
    id
}

/// What approval does: chapter rows from the architecture, status queued.
pub fn approve(conn: &mut db::DbConn, book_id: &str) -> Architecture {
    let json: Option<String> = books::table
        .find(book_id)
        .select(books::architecture)
        .first(conn)
        .expect("row");
    let arch: Architecture =
        serde_json::from_str(&json.expect("architecture stored")).expect("valid json");
    for (i, ch) in arch.chapters.iter().enumerate() {
        let t = db::now();
        diesel::insert_into(chapters::table)
            .values((
                chapters::id.eq(db::new_id()),
                chapters::book_id.eq(book_id),
                chapters::position.eq(i as i32),
                chapters::title.eq(&ch.title),
                chapters::target_words.eq(ch.target_words as i32),
                chapters::created_at.eq(t),
                chapters::updated_at.eq(t),
            ))
            .execute(conn)
            .expect("chapter");
    }
    diesel::update(books::table.find(book_id))
        .set(books::status.eq("queued"))
        .execute(conn)
        .expect("queued");
    arch
}

#[actix_web::test]
async fn architecture_then_book_are_written_into_the_database_exactly_once() {
    let s = setup().await;
    let mut pooled = s.pool.get().expect("conn");
    let conn: &mut buko::db::DbConn = &mut pooled;
    let book_id = insert_book(conn, "es");

    assert_eq!(
        s.runner.architecture(&book_id).await,
        RunOutcome::Done("architecture ready".into())
    );
    let (status, title, demo): (String, String, bool) = books::table
        .find(&book_id)
        .select((books::status, books::title, books::is_demo))
        .first(conn)
        .expect("book");
    assert_eq!(status, "architecture_ready");
    assert!(!title.is_empty());
    assert!(demo, "the offline writer's books are labelled as demo text");
    let arch = approve(conn, &book_id);
    assert!(!arch.chapters.is_empty());

    assert_eq!(
        s.runner.book(&book_id, Fence(1), None).await,
        RunOutcome::Done("completed".into())
    );
    let (status, total, done, words, input_tokens): (String, i32, i32, i64, i64) = books::table
        .find(&book_id)
        .select((
            books::status,
            books::chunks_total,
            books::chunks_done,
            books::words,
            books::input_tokens,
        ))
        .first(conn)
        .expect("book");
    assert_eq!(status, "completed");
    assert!(
        total as usize >= arch.chapters.len(),
        "at least one chunk per chapter, got {total}"
    );
    assert!(words > 1000, "a real book was written ({words} words)");
    let seqs: Vec<i64> = chunks::table
        .filter(chunks::book_id.eq(&book_id))
        .order(chunks::seq)
        .select(chunks::seq)
        .load(conn)
        .expect("seqs");
    assert_eq!(
        seqs,
        (1..=i64::from(total)).collect::<Vec<_>>(),
        "every planned chunk exactly once, in order"
    );
    assert_eq!(done, total);
    let stored_words: Option<i64> = chunks::table
        .filter(chunks::book_id.eq(&book_id))
        .select(diesel::dsl::sum(chunks::words))
        .first(conn)
        .expect("sum");
    assert_eq!(Some(words), stored_words);
    assert!(input_tokens > 0, "usage is accounted on the book");

    let events: Vec<i64> = events::table
        .filter(events::book_id.eq(&book_id))
        .order(events::seq)
        .select(events::seq)
        .load(conn)
        .expect("events");
    assert_eq!(
        events,
        (1..=events.len() as i64).collect::<Vec<_>>(),
        "event seqs have no gap"
    );
    let kinds: Vec<String> = events::table
        .filter(events::book_id.eq(&book_id))
        .select(events::kind)
        .load(conn)
        .expect("kinds");
    assert!(kinds.iter().any(|k| k == "book_completed"));
    let emails: i64 = jobs::table
        .filter(jobs::kind.eq("book_completed_email"))
        .count()
        .get_result(conn)
        .expect("jobs");
    assert_eq!(emails, 1, "completion enqueues the author's notification");
    let calls: i64 = llm_calls::table
        .filter(llm_calls::book_id.eq(&book_id))
        .count()
        .get_result(conn)
        .expect("calls");
    assert!(calls >= i64::from(total), "every LLM call is recorded");

    // Running the finished book again writes nothing new.
    assert_eq!(
        s.runner.book(&book_id, Fence(2), None).await,
        RunOutcome::Done("completed".into())
    );
    let again: i64 = chunks::table
        .filter(chunks::book_id.eq(&book_id))
        .count()
        .get_result(conn)
        .expect("count");
    assert_eq!(again, i64::from(total));
}

#[actix_web::test]
async fn a_stale_owner_cannot_commit_after_its_book_was_taken_over() {
    let s = setup().await;
    let mut pooled = s.pool.get().expect("conn");
    let conn: &mut buko::db::DbConn = &mut pooled;
    let book_id = insert_book(conn, "en");
    assert_eq!(
        s.runner.architecture(&book_id).await,
        RunOutcome::Done("architecture ready".into())
    );
    approve(conn, &book_id);

    queries::take_ownership(conn, &book_id, Fence(1)).expect("first owner");
    queries::take_ownership(conn, &book_id, Fence(2)).expect("a newer owner takes over");
    let stale = ChunkCommit {
        book_id: book_id.clone(),
        seq: 1,
        chapter_index: 0,
        part_index: 0,
        text: "stale text".into(),
        words: 2,
        usage: Usage::default(),
        fence: Fence(1),
    };
    assert!(matches!(
        queries::commit_chunk(conn, &stale, &[]),
        Err(queries::QueryError::Fenced(_))
    ));
    assert!(matches!(
        queries::take_ownership(conn, &book_id, Fence(1)),
        Err(queries::QueryError::Fenced(_))
    ));
    let n: i64 = chunks::table
        .filter(chunks::book_id.eq(&book_id))
        .count()
        .get_result(conn)
        .expect("count");
    assert_eq!(n, 0, "nothing of the stale owner was written");

    // The stale job itself stops without writing.
    assert_eq!(
        s.runner.book(&book_id, Fence(1), None).await,
        RunOutcome::Done("a newer generation owns the book".into())
    );
    // The current owner commits, idempotently.
    let current = ChunkCommit {
        fence: Fence(2),
        ..stale
    };
    assert_eq!(
        queries::commit_chunk(conn, &current, &[])
            .expect("commit")
            .0,
        buko_actors::CommitOutcome::Inserted
    );
    assert_eq!(
        queries::commit_chunk(conn, &current, &[]).expect("again").0,
        buko_actors::CommitOutcome::AlreadyPresent
    );
}
