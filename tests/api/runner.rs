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

/// A book whose architecture the runner wrote, approved (chapters in place, status queued).
async fn architected_and_approved(s: &Setup, conn: &mut db::DbConn) -> String {
    let book_id = insert_book(conn, "en");
    assert_eq!(
        s.runner.architecture(&book_id).await,
        RunOutcome::Done("architecture ready".into())
    );
    approve(conn, &book_id);
    book_id
}

#[actix_web::test]
async fn a_stale_owner_cannot_commit_after_its_book_was_taken_over() {
    let s = setup().await;
    let mut pooled = s.pool.get().expect("conn");
    let conn: &mut buko::db::DbConn = &mut pooled;
    let book_id = architected_and_approved(&s, conn).await;

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

/// Keeps the durable events a subscriber is sent.
struct EventRecorder(Arc<std::sync::Mutex<Vec<i64>>>);

impl actix::Actor for EventRecorder {
    type Context = actix::Context<Self>;
}

impl actix::Handler<buko_actors::Deliver> for EventRecorder {
    type Result = ();
    fn handle(&mut self, msg: buko_actors::Deliver, _: &mut Self::Context) {
        if let buko_actors::Deliver::Message(m) = msg {
            if let buko_actors::ProgressMessage::Event { seq, .. } = &m.message {
                self.0.lock().expect("recorder").push(*seq);
            }
        }
    }
}

/// Waits (up to 5 s) until `got` holds `n` seqs.
async fn wait_for_seqs(got: &std::sync::Mutex<Vec<i64>>, n: usize) -> Vec<i64> {
    for _ in 0..500 {
        if got.lock().expect("recorder").len() >= n {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    got.lock().expect("recorder").clone()
}

/// The store publishes what it commits, from the committing thread, the moment the transaction
/// commits, so an event does not wait for the engine's thread (busy with other books) to pick the
/// result up; and the engine does not publish it a second time. Before, a store call published
/// nothing by itself (the second half of this test failed: no event arrived).
#[actix_web::test]
async fn events_are_published_at_their_commit_once_and_in_order() {
    use actix::Actor as _;
    let s = setup().await;
    let mut pooled = s.pool.get().expect("conn");
    let conn: &mut buko::db::DbConn = &mut pooled;
    let book_id = architected_and_approved(&s, conn).await;
    let engine = &s.runner.engine;
    let got = Arc::new(std::sync::Mutex::new(Vec::new()));
    let recorder = EventRecorder(got.clone()).start();
    let id = engine
        .broadcaster
        .send(buko_actors::Register {
            recipient: recorder.recipient(),
        })
        .await
        .expect("register");
    let subscribed = engine
        .broadcaster
        .send(buko_actors::Subscribe {
            id,
            topic: buko_actors::Topic::Book(book_id.clone()),
        })
        .await
        .expect("subscribe");
    assert!(subscribed);
    let before: Option<i64> = events::table
        .filter(events::book_id.eq(&book_id))
        .select(diesel::dsl::max(events::seq))
        .first(conn)
        .expect("last seq");
    let before = before.unwrap_or(0);

    assert_eq!(
        s.runner.book(&book_id, Fence(1), None).await,
        RunOutcome::Done("completed".into())
    );
    let stored: Vec<i64> = events::table
        .filter(events::book_id.eq(&book_id))
        .order(events::seq)
        .select(events::seq)
        .load(conn)
        .expect("events");
    // What the run wrote after the subscription: every event once, in the store's order.
    let expected: Vec<i64> = stored.into_iter().filter(|s| *s > before).collect();
    assert!(expected.len() > 3, "the run wrote its events: {expected:?}");
    wait_for_seqs(&got, expected.len()).await;
    // A late duplicate would come after the last one: give it the time to arrive.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let sent = got.lock().expect("recorder").clone();
    assert_eq!(sent, expected, "each event once, in order");

    // A store call on its own, with no book run to pick its result up, publishes its event.
    let event = engine
        .deps
        .store
        .append_event(&book_id, "note", serde_json::json!({"n": 1}), Fence(1))
        .await
        .expect("append");
    let sent = wait_for_seqs(&got, expected.len() + 1).await;
    assert_eq!(sent.last(), Some(&event.seq), "published at its commit");
    assert_eq!(sent.len(), expected.len() + 1);
}
