//! What a job does, as the worker pool sees it: the [`JobHandler`] trait the application implements per
//! queue, the [`JobOutcome`] it reports, and the [`LeaseHandle`] through which a long-running handler
//! learns that its lease was lost (stop without committing) or that its soft time limit has passed.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDateTime;
use futures_util::future::LocalBoxFuture;
use tokio::sync::watch;

use super::claim::{ClaimedJob, JobLease};
use super::QueueName;

/// How a run ended, as the handler reports it.
#[derive(Clone, Debug, PartialEq)]
pub enum JobOutcome {
    Done,
    /// A temporary failure: retried after `after` (default: exponential backoff) while attempts remain.
    Retry {
        after: Option<Duration>,
        error: String,
    },
    /// Retrying cannot help: the job is failed now.
    Failed {
        error: String,
    },
    /// Not a failure, just not now (e.g. the provider is paused): requeued at `at`, no attempt spent.
    Later {
        at: NaiveDateTime,
    },
}

/// What a job does. The application registers one per queue; the pool calls `run` on a slot.
pub trait JobHandler: Send + Sync {
    fn run(&self, job: ClaimedJob, lease: LeaseHandle) -> LocalBoxFuture<'static, JobOutcome>;
}

/// The handlers of a node, by queue; a queue without one is not claimed on this node.
#[derive(Clone, Default)]
pub struct JobHandlers {
    map: HashMap<QueueName, Arc<dyn JobHandler>>,
}

impl JobHandlers {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(mut self, queue: QueueName, handler: Arc<dyn JobHandler>) -> Self {
        self.map.insert(queue, handler);
        self
    }

    pub fn get(&self, queue: QueueName) -> Option<Arc<dyn JobHandler>> {
        self.map.get(&queue).cloned()
    }

    pub fn queues(&self) -> Vec<QueueName> {
        QueueName::ALL
            .into_iter()
            .filter(|q| self.map.contains_key(q))
            .collect()
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct LeaseState {
    pub(super) lost: bool,
    pub(super) soft_limit_passed: bool,
}

/// A running job's view of its lease: the fence to hand to the store, and whether the lease was lost
/// (another node may own the job now: stop without committing) or the soft time limit has passed.
#[derive(Clone)]
pub struct LeaseHandle {
    lease: JobLease,
    state: watch::Receiver<LeaseState>,
}

impl LeaseHandle {
    pub(super) fn new(lease: JobLease, state: watch::Receiver<LeaseState>) -> Self {
        LeaseHandle { lease, state }
    }

    pub fn fence(&self) -> buko_actors::Fence {
        self.lease.fence
    }

    pub fn lease(&self) -> &JobLease {
        &self.lease
    }

    pub fn is_lost(&self) -> bool {
        self.state.borrow().lost
    }

    pub fn soft_limit_passed(&self) -> bool {
        self.state.borrow().soft_limit_passed
    }

    /// Resolves when the lease is lost (never, while it is held).
    pub async fn lost(&self) {
        let mut rx = self.state.clone();
        if rx.wait_for(|s| s.lost).await.is_err() {
            // The pool dropped the job (hard limit or shutdown): as good as lost.
        }
    }
}

/// A handler from a closure (tests, small handlers).
pub fn handler_fn<F>(f: F) -> Arc<dyn JobHandler>
where
    F: Fn(ClaimedJob, LeaseHandle) -> LocalBoxFuture<'static, JobOutcome> + Send + Sync + 'static,
{
    struct FnHandler<F>(F);
    impl<F> JobHandler for FnHandler<F>
    where
        F: Fn(ClaimedJob, LeaseHandle) -> LocalBoxFuture<'static, JobOutcome> + Send + Sync,
    {
        fn run(&self, job: ClaimedJob, lease: LeaseHandle) -> LocalBoxFuture<'static, JobOutcome> {
            (self.0)(job, lease)
        }
    }
    Arc::new(FnHandler(f))
}
