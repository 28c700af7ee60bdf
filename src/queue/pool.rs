//! The worker pool of a node: per queue, `concurrency` slots that claim a job, run its [`JobHandler`]
//! while a heartbeat renews the lease, enforce the soft and hard time limits, and settle the outcome. A
//! sweeper returns expired leases to the queue. No database connection is held while a handler runs:
//! every claim, renewal and settlement is one short `db::run`.
//!
//! Slots are local tasks on the arbiter that starts the pool (handlers' futures are `!Send`: they talk
//! to actors and awc).
//!
//! The idle slots of a group take turns: one of them at a time asks the database for work (at each
//! poll tick and each wake-up) while the others wait for the turn, and a slot that gets a job hands
//! the turn on at once, so a burst of jobs is claimed back to back. A NOTIFY or a poll tick thus costs
//! one claim per group, not one per idle slot (50 idle architecture slots on each of two nodes made
//! every enqueue 100 claims, and the polls a steady 100 a second).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::claim::{self, ClaimedJob, Failed, JobLease};
use super::handler::{JobHandlers, JobOutcome, LeaseHandle, LeaseState};
use super::listener::Wakeup;
use super::settings::QueueSettings;
use super::QueueName;
use crate::db::{self, DbPool};

/// A set of slots sharing one queue list (normally one queue; tests and small nodes may mix).
#[derive(Clone, Debug)]
pub struct SlotGroup {
    pub queues: Vec<QueueName>,
    pub concurrency: usize,
}

/// The running pool; dropping it does not stop it, [`WorkerPool::stop`] or [`WorkerPool::shutdown`]
/// does.
pub struct WorkerPool {
    stop: watch::Sender<bool>,
    wakeup: Wakeup,
    node_id: String,
    /// Set on shutdown: running jobs are released to the queue instead of abandoned to their leases.
    release: watch::Sender<bool>,
    slots: std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>,
    shared: Arc<Shared>,
}

struct Shared {
    /// Claims asked of the database (found a job or not), for tests and tuning.
    claims: AtomicU64,
    db: DbPool,
    settings: QueueSettings,
    handlers: JobHandlers,
    wakeup: Wakeup,
    stop: watch::Receiver<bool>,
    release: watch::Receiver<bool>,
}

impl WorkerPool {
    /// Starts one group per queue that has a handler, sized by the settings, plus the sweeper and (on
    /// PostgreSQL) the NOTIFY listener. Call from within an actix system (slots are local tasks).
    pub fn start(
        db: DbPool,
        database_url: &str,
        settings: QueueSettings,
        handlers: JobHandlers,
        node_id: &str,
    ) -> WorkerPool {
        let groups = handlers
            .queues()
            .into_iter()
            .map(|q| SlotGroup {
                queues: vec![q],
                concurrency: settings.limits(q).concurrency,
            })
            .collect();
        Self::start_groups(db, database_url, settings, handlers, node_id, groups)
    }

    pub fn start_groups(
        db: DbPool,
        database_url: &str,
        settings: QueueSettings,
        handlers: JobHandlers,
        node_id: &str,
        groups: Vec<SlotGroup>,
    ) -> WorkerPool {
        let (stop, stop_rx) = watch::channel(false);
        let (release, release_rx) = watch::channel(false);
        let wakeup = Wakeup::new();
        wakeup.listen(database_url);
        let shared = Arc::new(Shared {
            claims: AtomicU64::new(0),
            db,
            settings,
            handlers,
            wakeup: wakeup.clone(),
            stop: stop_rx,
            release: release_rx,
        });
        let mut slots = Vec::new();
        for g in groups {
            let queues: Vec<QueueName> = g
                .queues
                .into_iter()
                .filter(|q| shared.handlers.get(*q).is_some())
                .collect();
            if queues.is_empty() {
                continue;
            }
            let tag: Vec<&str> = queues.iter().map(|q| q.as_str()).collect();
            let turn = Arc::new(tokio::sync::Mutex::new(()));
            for i in 0..g.concurrency {
                let worker_id = format!("{node_id}/{}-{i}", tag.join("+"));
                slots.push(actix_web::rt::spawn(slot(
                    shared.clone(),
                    queues.clone(),
                    worker_id,
                    turn.clone(),
                )));
            }
        }
        actix_web::rt::spawn(sweeper(shared.clone()));
        log::info!(target: "buko::queue", node = node_id; "workers started");
        WorkerPool {
            stop,
            wakeup,
            node_id: node_id.to_string(),
            release,
            slots: std::sync::Mutex::new(slots),
            shared,
        }
    }

    /// How many claims the slots have asked of the database so far (whether they found a job or not).
    pub fn claims(&self) -> u64 {
        self.shared.claims.load(Ordering::Relaxed)
    }

    /// Wakes idle slots now (after a local enqueue, where no NOTIFY exists).
    pub fn wake(&self) {
        self.wakeup.wake();
    }

    pub fn node_id(&self) -> &str {
        &self.node_id
    }

    /// Stops claiming; running jobs are abandoned where they are and their leases expire (another node,
    /// or this one after a restart, resumes them).
    pub fn stop(&self) {
        let _ = self.stop.send(true);
        self.wakeup.stop();
        self.wakeup.wake();
    }

    /// A node going away (SIGTERM): stops claiming and gives every running job back to the queue at
    /// once (see `claim::release`), then waits up to `timeout` for the slots to finish doing so.
    /// Returns how many slots were still busy at the deadline.
    pub async fn shutdown(&self, timeout: Duration) -> usize {
        let _ = self.release.send(true);
        self.stop();
        let slots: Vec<_> =
            std::mem::take(&mut *self.slots.lock().unwrap_or_else(|p| p.into_inner()));
        let deadline = tokio::time::Instant::now() + timeout;
        let mut late = 0;
        for s in slots {
            if tokio::time::timeout_at(deadline, s).await.is_err() {
                late += 1;
            }
        }
        late
    }
}

fn stopped(s: &Shared) -> bool {
    *s.stop.borrow()
}

async fn slot(
    s: Arc<Shared>,
    queues: Vec<QueueName>,
    worker_id: String,
    turn: Arc<tokio::sync::Mutex<()>>,
) {
    let mut stop = s.stop.clone();
    while !stopped(&s) {
        let job = {
            // Wait for this group's turn to ask for work (see the module's comment). On stop, the
            // holder returns and each waiting slot in turn finds the pool stopped.
            let _turn = turn.lock().await;
            next_job(&s, &queues, &worker_id, &mut stop).await
        };
        if let Some(job) = job {
            run_job(&s, job).await;
        }
    }
}

/// Claims until a job is found (waiting for a wake-up or the poll between tries); `None` once the pool
/// stops.
async fn next_job(
    s: &Shared,
    queues: &[QueueName],
    worker_id: &str,
    stop: &mut watch::Receiver<bool>,
) -> Option<ClaimedJob> {
    while !stopped(s) {
        let notified = s.wakeup.notified();
        tokio::pin!(notified);
        // Registered before claiming, so a NOTIFY that lands during the claim is not missed.
        notified.as_mut().enable();
        let (q, w, lease) = (queues.to_vec(), worker_id.to_string(), s.settings.lease);
        s.claims.fetch_add(1, Ordering::Relaxed);
        match db::run(&s.db, move |c| claim::claim(c, &q, &w, lease)).await {
            Ok(Some(job)) => return Some(job),
            Ok(None) => {
                tokio::select! {
                    _ = &mut notified => {}
                    _ = tokio::time::sleep(s.settings.poll) => {}
                    _ = stop.changed() => {}
                }
            }
            Err(e) => {
                log::warn!(target: "buko::queue", worker = worker_id; "claim failed: {e}");
                tokio::time::sleep(s.settings.poll * 2).await;
            }
        }
    }
    None
}

/// Why the pool stopped waiting for a handler.
enum Ended {
    Outcome(JobOutcome),
    HardLimit,
    LeaseLost,
    /// The node is shutting down: the job goes back to the queue now.
    Released,
}

async fn run_job(s: &Shared, job: ClaimedJob) {
    let lease = job.lease();
    let queue = job.queue;
    let Some(handler) = s.handlers.get(queue) else {
        return;
    };
    let limits = s.settings.limits(queue);
    let (state_tx, state_rx) = watch::channel(LeaseState::default());
    let state_tx = Arc::new(state_tx);
    let heartbeat = actix_web::rt::spawn(heartbeat(
        s.db.clone(),
        lease.clone(),
        s.settings.lease,
        s.settings.heartbeat,
        state_tx.clone(),
    ));
    let handle = LeaseHandle::new(lease.clone(), state_rx.clone());
    let job_id = lease.job_id.clone();
    log::info!(target: "buko::queue", job = job_id.as_str(), queue = queue.as_str(), attempt = job.attempts, fence = lease.fence.0; "job started");
    let started = std::time::Instant::now();
    let mut run = handler.run(job, handle);
    let soft = tokio::time::sleep(limits.soft_limit);
    let hard = tokio::time::sleep(limits.hard_limit);
    tokio::pin!(soft, hard);
    let mut lost_rx = state_rx.clone();
    let mut release_rx = s.release.clone();
    let mut soft_fired = false;
    let ended = loop {
        tokio::select! {
            out = &mut run => break Ended::Outcome(out),
            _ = &mut soft, if !soft_fired => {
                soft_fired = true;
                log::warn!(target: "buko::queue", job = job_id.as_str(), queue = queue.as_str(); "job passed its soft time limit");
                state_tx.send_modify(|st| st.soft_limit_passed = true);
            }
            _ = &mut hard => break Ended::HardLimit,
            _ = release_rx.wait_for(|r| *r) => break Ended::Released,
            _ = lost_rx.wait_for(|st| st.lost) => {
                // The handler was told; give it one heartbeat period to wind down, then drop it.
                // Whatever it returns then cannot be recorded: the job is no longer ours.
                let _ = tokio::time::timeout(s.settings.heartbeat, &mut run).await;
                break Ended::LeaseLost;
            }
        }
    };
    drop(run);
    heartbeat.abort();
    let elapsed_ms = started.elapsed().as_millis() as u64;
    let outcome = match ended {
        Ended::Outcome(o) => o,
        Ended::HardLimit => {
            log::error!(target: "buko::queue", job = job_id.as_str(), queue = queue.as_str(); "job abandoned at its hard time limit");
            JobOutcome::Retry {
                after: None,
                error: format!(
                    "hard time limit of {}s exceeded",
                    limits.hard_limit.as_secs()
                ),
            }
        }
        Ended::LeaseLost => {
            log::warn!(target: "buko::queue", job = job_id.as_str(); "lease lost; another worker owns the job");
            return;
        }
        Ended::Released => {
            // The handler is dropped above; tell anything it left running that the job is no longer
            // ours (a new owner's fence refuses its writes anyway).
            state_tx.send_modify(|st| st.lost = true);
            let l = lease.clone();
            match db::run(&s.db, move |c| claim::release(c, &l, queue)).await {
                Ok(true) => {
                    log::info!(target: "buko::queue", job = job_id.as_str(), queue = queue.as_str(); "job released at shutdown")
                }
                Ok(false) => {}
                Err(e) => {
                    log::warn!(target: "buko::queue", job = job_id.as_str(); "cannot release the job ({e}); its lease will expire")
                }
            }
            return;
        }
    };
    settle(s, lease, outcome, elapsed_ms).await;
}

/// Records the outcome, retrying briefly while the database is away; if it stays away the lease
/// expires and the job runs again (at-least-once: handlers must be idempotent, the fence makes the
/// book's commits so).
async fn settle(s: &Shared, lease: JobLease, outcome: JobOutcome, elapsed_ms: u64) {
    let job_id = lease.job_id.clone();
    for attempt in 0..5u32 {
        let (l, o) = (lease.clone(), outcome.clone());
        let r = db::run(&s.db, move |c| match o {
            JobOutcome::Done => claim::complete(c, &l).map(|ok| ok.then_some("completed")),
            JobOutcome::Retry { after, error } => {
                claim::fail(c, &l, &error, after, false).map(describe)
            }
            JobOutcome::Failed { error } => claim::fail(c, &l, &error, None, true).map(describe),
            JobOutcome::Later { at } => {
                claim::retry_later(c, &l, at).map(|ok| ok.then_some("postponed"))
            }
        })
        .await;
        match r {
            Ok(Some(what)) => {
                log::info!(target: "buko::queue", job = job_id.as_str(), outcome = what, ms = elapsed_ms; "job settled");
                return;
            }
            Ok(None) => {
                log::warn!(target: "buko::queue", job = job_id.as_str(); "lease lost before settling; outcome dropped");
                return;
            }
            Err(e) => {
                log::warn!(target: "buko::queue", job = job_id.as_str(); "cannot settle the job yet: {e}");
                tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
            }
        }
    }
}

fn describe(f: Failed) -> Option<&'static str> {
    match f {
        Failed::Requeued { .. } => Some("retry"),
        Failed::Dead => Some("failed"),
        Failed::LeaseLost => None,
    }
}

async fn heartbeat(
    db: DbPool,
    lease: JobLease,
    duration: Duration,
    every: Duration,
    state: Arc<watch::Sender<LeaseState>>,
) {
    loop {
        tokio::time::sleep(every).await;
        let l = lease.clone();
        match db::run(&db, move |c| claim::renew(c, &l, duration)).await {
            Ok(true) => {}
            Ok(false) => {
                state.send_modify(|st| st.lost = true);
                return;
            }
            // Keep trying: if the database stays away past the lease, the next successful renewal finds
            // the job swept (or not, if no node could sweep either) and reports accordingly.
            Err(e) => {
                log::warn!(target: "buko::queue", job = lease.job_id.as_str(); "lease renewal failed: {e}")
            }
        }
    }
}

async fn sweeper(s: Arc<Shared>) {
    let mut stop = s.stop.clone();
    while !stopped(&s) {
        match db::run(&s.db, super::sweep::sweep).await {
            Ok(swept) if swept.requeued > 0 => s.wakeup.wake(),
            Ok(_) => {}
            Err(e) => log::warn!(target: "buko::queue", "sweep failed: {e}"),
        }
        tokio::select! {
            _ = tokio::time::sleep(s.settings.sweep_every) => {}
            _ = stop.changed() => {}
        }
    }
}
