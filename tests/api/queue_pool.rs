//! The worker pool with in-test handlers: priority under a busy slot, lease loss seen by the handler,
//! soft and hard time limits, outcomes, recovery of a dead node's job, and exactly-once under load.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use buko::db::schema::jobs;
use buko::queue::{
    claim, handler_fn, JobHandlers, JobOutcome, QueueName, QueueSettings, SlotGroup, WorkerPool,
};
use diesel::prelude::*;
use futures_util::FutureExt;

use crate::queue_db::{arch, book, QueueDb};

fn fast_settings() -> QueueSettings {
    QueueSettings {
        lease: Duration::from_millis(1500),
        heartbeat: Duration::from_millis(300),
        sweep_every: Duration::from_millis(300),
        poll: Duration::from_millis(100),
        ..Default::default()
    }
}

fn book_id(p: &buko::queue::JobPayload) -> String {
    match p {
        buko::queue::JobPayload::Architecture { book_id }
        | buko::queue::JobPayload::Book { book_id, .. }
        | buko::queue::JobPayload::BookCompletedEmail { book_id }
        | buko::queue::JobPayload::CoverArt { book_id, .. } => book_id.clone(),
        buko::queue::JobPayload::AccountExistsEmail { user_id } => user_id.clone(),
        buko::queue::JobPayload::BillingEvent { event_id } => event_id.clone(),
    }
}

async fn wait_until(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[actix_web::test]
async fn a_queued_architecture_job_starts_before_older_book_jobs_when_the_slot_frees() {
    let q = QueueDb::new();
    let order: Arc<Mutex<Vec<String>>> = Arc::default();
    let release = Arc::new(tokio::sync::Notify::new());
    let (o, r) = (order.clone(), release.clone());
    let handler = handler_fn(move |job, _lease| {
        let (o, r) = (o.clone(), r.clone());
        async move {
            let id = book_id(&job.payload);
            o.lock().unwrap().push(id.clone());
            if id == "b0" {
                r.notified().await;
            }
            JobOutcome::Done
        }
        .boxed_local()
    });
    let handlers = JobHandlers::new()
        .with(QueueName::Architecture, handler.clone())
        .with(QueueName::Book, handler);
    let pool = WorkerPool::start_groups(
        q.pool.clone(),
        &q.url,
        fast_settings(),
        handlers,
        "node",
        vec![SlotGroup {
            queues: vec![QueueName::Architecture, QueueName::Book],
            concurrency: 1,
        }],
    );
    q.add(book("b0"));
    wait_until("b0 to start", Duration::from_secs(10), || {
        order.lock().unwrap().len() == 1
    })
    .await;
    q.add(book("b1"));
    q.add(book("b2"));
    q.add(arch("a1"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    release.notify_one();
    wait_until("all jobs", Duration::from_secs(10), || {
        order.lock().unwrap().len() == 4
    })
    .await;
    assert_eq!(*order.lock().unwrap(), vec!["b0", "a1", "b1", "b2"]);
    pool.stop();
}

#[actix_web::test]
async fn a_handler_learns_it_lost_its_lease_and_its_outcome_is_not_recorded() {
    let q = QueueDb::new();
    let saw_lost = Arc::new(Mutex::new(None::<i64>));
    let s = saw_lost.clone();
    let handler = handler_fn(move |_job, lease| {
        let s = s.clone();
        async move {
            lease.lost().await;
            *s.lock().unwrap() = Some(lease.fence().0);
            JobOutcome::Done
        }
        .boxed_local()
    });
    let pool = WorkerPool::start(
        q.pool.clone(),
        &q.url,
        fast_settings(),
        JobHandlers::new().with(QueueName::Book, handler),
        "node-a",
    );
    let id = q.add(book("b1"));
    wait_until("the claim", Duration::from_secs(10), || {
        q.job(&id).0 == "running"
    })
    .await;
    // Another node takes over: the lease is made to expire, swept, and reclaimed elsewhere. Node A's
    // heartbeat may renew the lease between the expiry and the sweep, so expire again until it sticks.
    let mut c = q.conn();
    pool.stop(); // so this node's own slots do not reclaim it
    let mut other = None;
    for _ in 0..50 {
        diesel::update(jobs::table.find(&id))
            .set(jobs::lease_until.eq(buko::db::now() - chrono::TimeDelta::seconds(1)))
            .execute(&mut **c)
            .unwrap();
        buko::queue::sweep(&mut c).unwrap();
        other = claim(
            &mut c,
            &[QueueName::Book],
            "node-b",
            Duration::from_secs(60),
        )
        .unwrap();
        if other.is_some() {
            break;
        }
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    let other = other.expect("node-b reclaims the job");
    wait_until(
        "the handler to see the loss",
        Duration::from_secs(10),
        || saw_lost.lock().unwrap().is_some(),
    )
    .await;
    let stale = saw_lost.lock().unwrap().unwrap();
    assert!(other.fence.0 > stale);
    tokio::time::sleep(Duration::from_millis(500)).await;
    // The stale "Done" was not recorded: node-b still owns a running job.
    assert_eq!(q.job(&id).0, "running");
}

#[actix_web::test]
async fn soft_limit_is_signalled_and_hard_limit_abandons_and_requeues() {
    let q = QueueDb::new();
    let soft_seen = Arc::new(Mutex::new(false));
    let s = soft_seen.clone();
    let handler = handler_fn(move |_job, lease| {
        let s = s.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(400)).await;
            *s.lock().unwrap() = lease.soft_limit_passed();
            std::future::pending::<()>().await;
            JobOutcome::Done
        }
        .boxed_local()
    });
    let mut settings = fast_settings();
    let limits = settings.queues.get_mut(&QueueName::Email).unwrap();
    limits.soft_limit = Duration::from_millis(200);
    limits.hard_limit = Duration::from_millis(800);
    let pool = WorkerPool::start(
        q.pool.clone(),
        &q.url,
        settings,
        JobHandlers::new().with(QueueName::Email, handler),
        "node",
    );
    let id = q.add(buko::queue::JobPayload::BookCompletedEmail {
        book_id: "b".into(),
    });
    wait_until("the hard limit", Duration::from_secs(10), || {
        q.job(&id).2.is_some()
    })
    .await;
    pool.stop();
    let (status, attempts, error) = q.job(&id);
    assert_eq!((status.as_str(), attempts), ("queued", 1));
    assert!(error.unwrap().contains("hard time limit"));
    assert!(*soft_seen.lock().unwrap());
}

#[actix_web::test]
async fn outcomes_are_recorded() {
    let q = QueueDb::new();
    let handler = handler_fn(|job, _| {
        let out = match book_id(&job.payload).as_str() {
            "ok" => JobOutcome::Done,
            "retry" => JobOutcome::Retry {
                after: Some(Duration::from_secs(60)),
                error: "try again".into(),
            },
            _ => JobOutcome::Failed {
                error: "hopeless".into(),
            },
        };
        async move { out }.boxed_local()
    });
    let pool = WorkerPool::start(
        q.pool.clone(),
        &q.url,
        fast_settings(),
        JobHandlers::new().with(QueueName::Book, handler),
        "node",
    );
    let ok = q.add(book("ok"));
    let retry = q.add(book("retry"));
    let bad = q.add(book("bad"));
    wait_until("settled", Duration::from_secs(10), || {
        q.job(&ok).0 == "completed" && q.job(&retry).2.is_some() && q.job(&bad).0 == "failed"
    })
    .await;
    pool.stop();
    assert_eq!(q.job(&retry).0, "queued");
    assert_eq!(q.job(&bad).2.as_deref(), Some("hopeless"));
}

#[actix_web::test]
async fn a_dead_nodes_job_is_resumed_after_its_lease_expires() {
    let q = QueueDb::new();
    let id = q.add(book("b1"));
    // A node claims it and dies: no heartbeat ever renews the lease.
    let dead = claim(
        &mut q.conn(),
        &[QueueName::Book],
        "dead",
        Duration::from_secs(1),
    )
    .unwrap()
    .unwrap();
    let ran = Arc::new(Mutex::new(None::<(i32, i64)>));
    let r = ran.clone();
    let handler = handler_fn(move |job, lease| {
        *r.lock().unwrap() = Some((job.attempts, lease.fence().0));
        async { JobOutcome::Done }.boxed_local()
    });
    let started = Instant::now();
    let pool = WorkerPool::start(
        q.pool.clone(),
        &q.url,
        fast_settings(),
        JobHandlers::new().with(QueueName::Book, handler),
        "alive",
    );
    wait_until("the resume", Duration::from_secs(10), || {
        q.job(&id).0 == "completed"
    })
    .await;
    pool.stop();
    let (attempts, fence) = ran.lock().unwrap().unwrap();
    assert_eq!(attempts, 2);
    assert!(fence > dead.fence.0);
    assert!(
        started.elapsed() >= Duration::from_millis(700),
        "resumed before the lease expired"
    );
}

#[actix_web::test]
async fn many_slots_run_every_job_exactly_once() {
    let q = QueueDb::new();
    let (slots, n) = if q.is_pg() { (8, 300) } else { (3, 60) };
    let runs: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
    let r = runs.clone();
    let handler = handler_fn(move |job, _| {
        *r.lock().unwrap().entry(job.id.clone()).or_default() += 1;
        async {
            tokio::task::yield_now().await;
            JobOutcome::Done
        }
        .boxed_local()
    });
    let mut settings = fast_settings();
    settings
        .queues
        .get_mut(&QueueName::Book)
        .unwrap()
        .concurrency = slots;
    let pool = WorkerPool::start(
        q.pool.clone(),
        &q.url,
        settings,
        JobHandlers::new().with(QueueName::Book, handler),
        "node",
    );
    for i in 0..n {
        q.add(book(&format!("b{i}")));
    }
    wait_until("all jobs", Duration::from_secs(60), || {
        runs.lock().unwrap().len() == n
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    pool.stop();
    let runs = runs.lock().unwrap();
    assert_eq!(runs.len(), n);
    assert!(runs.values().all(|c| *c == 1));
    let done: i64 = jobs::table
        .filter(jobs::status.eq("completed"))
        .count()
        .get_result(&mut **q.conn())
        .unwrap();
    assert_eq!(done, n as i64);
}

#[actix_web::test]
async fn idle_workers_wake_on_enqueue_without_waiting_for_the_poll() {
    let q = QueueDb::new();
    let ran = Arc::new(Mutex::new(0u32));
    let r = ran.clone();
    let handler = handler_fn(move |_, _| {
        *r.lock().unwrap() += 1;
        async { JobOutcome::Done }.boxed_local()
    });
    // A poll far longer than the test: only a wake-up can start the job in time.
    let settings = QueueSettings {
        poll: Duration::from_secs(60),
        ..fast_settings()
    };
    let pool = WorkerPool::start(
        q.pool.clone(),
        &q.url,
        settings,
        JobHandlers::new().with(QueueName::Book, handler),
        "node",
    );
    // Let the slots go idle (and the PostgreSQL listener connect).
    tokio::time::sleep(Duration::from_millis(500)).await;
    q.add(book("b1"));
    if !q.is_pg() {
        // SQLite has no NOTIFY: a local enqueuer wakes its own node.
        pool.wake();
    }
    wait_until("the wake-up", Duration::from_secs(3), || {
        *ran.lock().unwrap() == 1
    })
    .await;
    pool.stop();
}

/// Before: every idle slot polled on its own, so 20 idle slots asked the database 20 times per poll
/// period and every wake-up woke all 20. Now a group's idle slots take turns: one claim per tick.
#[actix_web::test]
async fn idle_slots_take_turns_asking_for_work_and_a_burst_still_runs_at_once() {
    let q = QueueDb::new();
    let running = Arc::new(Mutex::new(0u32));
    let most = Arc::new(Mutex::new(0u32));
    let gate = Arc::new(tokio::sync::Notify::new());
    let (r, m, g) = (running.clone(), most.clone(), gate.clone());
    let handler = handler_fn(move |_, _| {
        let (r, m, g) = (r.clone(), m.clone(), g.clone());
        async move {
            let now = {
                let mut n = r.lock().unwrap();
                *n += 1;
                *n
            };
            {
                let mut most = m.lock().unwrap();
                *most = (*most).max(now);
            }
            g.notified().await;
            JobOutcome::Done
        }
        .boxed_local()
    });
    let pool = WorkerPool::start_groups(
        q.pool.clone(),
        &q.url,
        fast_settings(),
        JobHandlers::new().with(QueueName::Book, handler),
        "node",
        vec![SlotGroup {
            queues: vec![QueueName::Book],
            concurrency: 20,
        }],
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = pool.claims();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle = pool.claims() - before;
    // One slot at 100 ms: about 10 (a listener reconnect or a tick at the edges adds a few);
    // every slot on its own would be about 200.
    assert!(idle <= 20, "{idle} claims in 1 s by 20 idle slots");
    // A burst: every job starts without waiting for a poll, each slot taking one.
    for i in 0..10 {
        q.add(book(&format!("b{i}")));
    }
    pool.wake();
    wait_until("ten jobs running at once", Duration::from_secs(3), || {
        *most.lock().unwrap() == 10
    })
    .await;
    pool.stop();
    gate.notify_waiters();
}
