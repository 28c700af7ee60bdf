//! A ten-minute provider outage, at 1/60 scale (a "minute" is a second; cool-downs and backoff scaled
//! alike), against the fake Anthropic server: books written through `Runner` into the database, each
//! rescheduled like the job queue does (`RunOutcome::Later` = `JobOutcome::Later`). Issue 20: before,
//! the trial calls after each cool-down used the chunk's attempts and every book ended `paused` for good.

use std::sync::Arc;
use std::time::{Duration, Instant};

use buko::db::{self, schema::books};
use buko::runner::{RunOutcome, Runner};
use buko::store::DbBookStore;
use buko_actors::{BreakerConfig, Engine, EngineConfig, Fence, NoRemote, RetryConfig, SystemClock};
use diesel::prelude::*;

use super::helpers::{anthropic, spawn_fake, stats};

/// Production settings divided by 60.
fn scaled_config() -> EngineConfig {
    EngineConfig {
        retry: RetryConfig {
            base: Duration::from_millis(10),
            cap: Duration::from_secs(1),
            max_attempts: 8,
        },
        breaker: BreakerConfig {
            cool_down: Duration::from_millis(500),
            max_cool_down: Duration::from_secs(5),
            ..BreakerConfig::default()
        },
        breaker_poll: Duration::from_millis(80),
        stall_timeout: Duration::from_secs(3),
        chunk_timeout: Duration::from_secs(20),
        yield_while_breaker_open: true,
        ..EngineConfig::default()
    }
}

/// Runs a book job until it is done, sleeping through `Later` like the queue.
async fn run_like_the_queue(runner: Runner, book_id: String) -> (RunOutcome, u32) {
    let mut waits = 0;
    loop {
        match runner.book(&book_id, Fence(1), None).await {
            RunOutcome::Later(after) => {
                waits += 1;
                tokio::time::sleep(after).await;
            }
            other => return (other, waits),
        }
    }
}

#[actix_web::test]
async fn ten_minute_outage_ends_with_every_book_completed_and_no_request_storm() {
    let base = spawn_fake(|o| {
        o.tokens_per_sec = 1500.0;
        o.words = 200;
    })
    .await;
    let dir = tempfile::tempdir().expect("tmp");
    let (settings, pg) = crate::helpers::test_settings(dir.path());
    let _pg = pg.map(crate::helpers::PgGuard);
    let pool = db::build_pool(settings.database_url.expose(), 6).expect("pool");
    buko::db::migrate_pool(&pool).await.expect("migrate");
    let engine = Engine::start(
        Arc::new(anthropic(&base, "k", None, 3000)),
        Arc::new(DbBookStore::new(pool.clone())),
        Arc::new(NoRemote),
        Arc::new(SystemClock),
        scaled_config(),
    );
    let runner = Runner::new(engine, pool.clone());
    let mut ids = Vec::new();
    for _ in 0..3 {
        let id = crate::runner::insert_book(&mut pool.get().expect("conn"), "en");
        assert_eq!(
            runner.architecture(&id).await,
            RunOutcome::Done("architecture ready".into())
        );
        crate::runner::approve(&mut pool.get().expect("conn"), &id);
        ids.push(id);
    }

    let jobs: Vec<_> = ids
        .iter()
        .map(|id| actix_web::rt::spawn(run_like_the_queue(runner.clone(), id.clone())))
        .collect();
    // Let the books get going, then the provider goes away for ten "minutes".
    tokio::time::sleep(Duration::from_millis(300)).await;
    let outage = Duration::from_secs(10);
    let r = awc::Client::new()
        .post(format!("{base}/_fake/outage"))
        .send_json(&serde_json::json!({"secs": outage.as_secs_f64()}))
        .await
        .expect("outage");
    assert!(r.status().is_success());
    let outage_started_ms = stats(&base).await["now_ms"].as_u64().expect("now");
    let started = Instant::now();
    for job in jobs {
        let (outcome, _) = tokio::time::timeout(Duration::from_secs(40), job)
            .await
            .expect("every book finished in time")
            .expect("job task");
        assert_eq!(outcome, RunOutcome::Done("completed".into()));
    }
    assert!(
        started.elapsed() >= outage - Duration::from_secs(1),
        "the books cannot have finished during the outage"
    );
    let mut pooled = pool.get().expect("conn");
    let conn: &mut buko::db::DbConn = &mut pooled;
    for id in &ids {
        let status: String = books::table
            .find(id)
            .select(books::status)
            .first(conn)
            .expect("book");
        assert_eq!(status, "completed", "{id}");
    }
    // Requests per scaled minute while the provider was down: the breaker's trials, not a storm.
    let s = stats(&base).await;
    let arrivals: Vec<u64> = s["arrivals_ms"]
        .as_array()
        .expect("arrivals")
        .iter()
        .filter_map(serde_json::Value::as_u64)
        .collect();
    let per_minute: Vec<usize> = (0..outage.as_secs())
        .map(|m| {
            let from = outage_started_ms + m * 1000;
            arrivals
                .iter()
                .filter(|t| (from..from + 1000).contains(*t))
                .count()
        })
        .collect();
    let failed = s["outcomes"]["overloaded"].as_u64().unwrap_or(0);
    eprintln!(
        "requests per scaled minute during the outage: {per_minute:?}; {failed} answered 529"
    );
    // The first minute holds the calls in flight when it began and those that open the breaker.
    assert!(per_minute[0] <= 12, "{per_minute:?}");
    assert!(
        per_minute[1..].iter().all(|n| *n <= 4),
        "more than the breaker's trials: {per_minute:?}"
    );
    assert!(failed <= 30, "{failed} calls during the outage");
}
