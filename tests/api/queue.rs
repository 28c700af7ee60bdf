//! The job queue against a real database: priorities, unique keys, leases with fencing, the sweeper,
//! backoff and attempts, and exactly-once claiming under concurrency.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use buko::queue::{
    claim, complete, enqueue, fail, renew, retry_later, sweep, Enqueued, Failed, NewJob, QueueName,
};

use crate::queue_db::{arch, book, QueueDb};

const LEASE: Duration = Duration::from_secs(15);
const ALL: [QueueName; 5] = QueueName::ALL;

#[test]
fn architecture_jobs_are_claimed_before_older_book_jobs() {
    let q = QueueDb::new();
    let b1 = q.add(book("b1"));
    let b2 = q.add(book("b2"));
    let a = q.add(arch("a1"));
    let mut c = q.conn();
    let order: Vec<String> = (0..3)
        .map(|_| claim(&mut c, &ALL, "w", LEASE).unwrap().unwrap().id)
        .collect();
    assert_eq!(order, vec![a, b1, b2]);
    assert!(claim(&mut c, &ALL, "w", LEASE).unwrap().is_none());
}

#[test]
fn a_worker_only_claims_its_queues() {
    let q = QueueDb::new();
    q.add(book("b1"));
    let mut c = q.conn();
    assert!(claim(&mut c, &[QueueName::Email], "w", LEASE)
        .unwrap()
        .is_none());
    assert!(claim(&mut c, &[QueueName::Book], "w", LEASE)
        .unwrap()
        .is_some());
}

#[test]
fn one_active_job_per_book_and_a_new_one_after_completion() {
    let q = QueueDb::new();
    q.add(book("b1"));
    let mut c = q.conn();
    assert_eq!(
        enqueue(&mut c, NewJob::now(book("b1"))).unwrap(),
        Enqueued::AlreadyActive
    );
    let job = claim(&mut c, &ALL, "w", LEASE).unwrap().unwrap();
    // Still active while running.
    assert_eq!(
        enqueue(&mut c, NewJob::now(book("b1"))).unwrap(),
        Enqueued::AlreadyActive
    );
    assert!(complete(&mut c, &job.lease()).unwrap());
    assert_eq!(q.job(&job.id).0, "completed");
    assert!(matches!(
        enqueue(&mut c, NewJob::now(book("b1"))).unwrap(),
        Enqueued::Created(_)
    ));
}

#[test]
fn an_expired_lease_is_swept_and_reclaimed_with_a_higher_fence() {
    let q = QueueDb::new();
    let id = q.add(book("b1"));
    let mut c = q.conn();
    let stale = claim(&mut c, &ALL, "node-a", Duration::from_millis(300))
        .unwrap()
        .unwrap();
    assert_eq!(stale.attempts, 1);
    // Not expired yet: the sweeper leaves it and nobody else can claim it.
    assert_eq!(sweep(&mut c).unwrap().requeued, 0);
    assert!(claim(&mut c, &ALL, "node-b", LEASE).unwrap().is_none());
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(sweep(&mut c).unwrap().requeued, 1);
    // Between the sweep and the reclaim, the stale owner already learns it lost the job.
    assert!(!renew(&mut c, &stale.lease(), LEASE).unwrap());
    let fresh = claim(&mut c, &ALL, "node-b", LEASE).unwrap().unwrap();
    assert_eq!(fresh.id, id);
    assert_eq!(fresh.attempts, 2);
    assert!(
        fresh.fence.0 > stale.fence.0,
        "{:?} !> {:?}",
        fresh.fence,
        stale.fence
    );
    // The stale owner can neither renew, complete, fail nor postpone it; the new owner can.
    assert!(!renew(&mut c, &stale.lease(), LEASE).unwrap());
    assert!(!complete(&mut c, &stale.lease()).unwrap());
    assert_eq!(
        fail(&mut c, &stale.lease(), "late", None, false).unwrap(),
        Failed::LeaseLost
    );
    assert!(!retry_later(&mut c, &stale.lease(), buko::db::now()).unwrap());
    assert_eq!(q.job(&id).0, "running");
    assert!(renew(&mut c, &fresh.lease(), LEASE).unwrap());
    assert!(complete(&mut c, &fresh.lease()).unwrap());
    // Even the same worker id reclaiming a job gets a new fence: the old token stays stale.
    let later = q.add(book("b1"));
    let next = claim(&mut c, &ALL, "node-b", LEASE).unwrap().unwrap();
    assert_eq!(next.id, later);
    assert!(next.fence.0 > fresh.fence.0);
}

#[test]
fn failures_back_off_until_attempts_run_out() {
    let q = QueueDb::new();
    let id = q.add_job(NewJob {
        payload: book("b1"),
        run_at: None,
        max_attempts: 2,
    });
    let mut c = q.conn();
    let job = claim(&mut c, &ALL, "w", LEASE).unwrap().unwrap();
    let before = buko::db::now();
    let Failed::Requeued { run_at } = fail(&mut c, &job.lease(), "boom 1", None, false).unwrap()
    else {
        panic!("expected a requeue")
    };
    assert!(run_at >= before + chrono::TimeDelta::seconds(5));
    assert_eq!(q.job(&id), ("queued".into(), 1, Some("boom 1".into())));
    // Not claimable before its run_at.
    assert!(claim(&mut c, &ALL, "w", LEASE).unwrap().is_none());
    q.make_due(&id);
    let job = claim(&mut c, &ALL, "w", LEASE).unwrap().unwrap();
    assert_eq!(job.attempts, 2);
    assert_eq!(
        fail(&mut c, &job.lease(), "boom 2", None, false).unwrap(),
        Failed::Dead
    );
    assert_eq!(q.job(&id), ("failed".into(), 2, Some("boom 2".into())));
    q.make_due(&id);
    assert!(claim(&mut c, &ALL, "w", LEASE).unwrap().is_none());
}

#[test]
fn permanent_failures_and_postponing() {
    let q = QueueDb::new();
    let id = q.add(book("b1"));
    let mut c = q.conn();
    let job = claim(&mut c, &ALL, "w", LEASE).unwrap().unwrap();
    // Postponing spends no attempt and is not due early.
    let at = buko::db::now() + chrono::TimeDelta::seconds(60);
    assert!(retry_later(&mut c, &job.lease(), at).unwrap());
    assert_eq!(q.job(&id).1, 0);
    assert!(claim(&mut c, &ALL, "w", LEASE).unwrap().is_none());
    q.make_due(&id);
    let job = claim(&mut c, &ALL, "w", LEASE).unwrap().unwrap();
    assert_eq!(
        fail(&mut c, &job.lease(), "bad input", None, true).unwrap(),
        Failed::Dead
    );
    assert_eq!(q.job(&id).0, "failed");
}

#[test]
fn a_future_job_waits_for_its_run_at() {
    let q = QueueDb::new();
    q.add_job(NewJob {
        payload: book("b1"),
        run_at: Some(buko::db::now() + chrono::TimeDelta::milliseconds(500)),
        max_attempts: 5,
    });
    let mut c = q.conn();
    assert!(claim(&mut c, &ALL, "w", LEASE).unwrap().is_none());
    std::thread::sleep(Duration::from_millis(600));
    assert!(claim(&mut c, &ALL, "w", LEASE).unwrap().is_some());
}

#[test]
fn a_job_whose_last_attempt_expires_is_failed_not_requeued() {
    let q = QueueDb::new();
    let id = q.add_job(NewJob {
        payload: book("b1"),
        run_at: None,
        max_attempts: 1,
    });
    let mut c = q.conn();
    claim(&mut c, &ALL, "w", Duration::from_millis(50))
        .unwrap()
        .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(sweep(&mut c).unwrap().failed, 1);
    assert_eq!(q.job(&id).0, "failed");
}

#[test]
fn concurrent_workers_run_every_job_exactly_once() {
    let q = QueueDb::new();
    let (workers, jobs) = if q.is_pg() { (8, 400) } else { (4, 120) };
    let mut ids = Vec::new();
    for i in 0..jobs {
        let payload = match i % 3 {
            0 => arch(&format!("b{i}")),
            1 => book(&format!("b{i}")),
            _ => buko::queue::JobPayload::BookCompletedEmail {
                book_id: format!("b{i}"),
            },
        };
        ids.push(q.add(payload));
    }
    let seen: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
    let handles: Vec<_> = (0..workers)
        .map(|w| {
            let pool = q.pool.clone();
            let seen = seen.clone();
            std::thread::spawn(move || {
                let mut c = pool.get().unwrap();
                let me = format!("w{w}");
                while let Some(job) = claim(&mut c, &ALL, &me, LEASE).unwrap() {
                    *seen.lock().unwrap().entry(job.id.clone()).or_default() += 1;
                    assert!(complete(&mut c, &job.lease()).unwrap());
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("worker thread");
    }
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), jobs);
    assert!(seen.values().all(|n| *n == 1), "a job ran twice");
    for id in &ids {
        assert_eq!(q.job(id).0, "completed");
    }
}
