//! Runs jobs on the engine: an architecture job asks the engine for an architecture and stores it; a
//! book job takes ownership of the book with the job's fence and lets the supervisor write it, then waits
//! for the outcome. Used by the queue's workers and by `buko generate`.

pub mod handlers;
mod waiter;

use actix::Actor;
use buko_actors::{
    ArchitectureFailure, ArchitectureRequest, BookOutcome, BookStatus, Engine, EngineError, Fence,
    ProgressMessage, Publish, StartBook, PAUSED_BY_AUTHOR,
};

use crate::db::repo::engine::QueryError;
use crate::db::{self, repo, DbPool};

/// What became of a job, for the queue to complete, retry or fail it.
#[derive(Debug, PartialEq)]
pub enum RunOutcome {
    /// Finished (successfully or with the book marked failed / paused / cancelled — nothing to retry).
    Done(String),
    /// A temporary problem: run the job again later.
    Retry(String),
    /// The job cannot succeed (and the book says why when there is one).
    Failed(String),
    /// Not now: the provider's breaker is open and the book is paused for it. Run the job again after
    /// this delay, spending no attempt.
    Later(std::time::Duration),
}

#[derive(Clone)]
pub struct Runner {
    pub engine: Engine,
    pub db: DbPool,
    /// The provider writes offline demo text (books are labelled).
    pub demo: bool,
}

impl Runner {
    pub fn new(engine: Engine, db: DbPool) -> Runner {
        let demo = engine.deps.llm.is_demo();
        Runner { engine, db, demo }
    }

    /// Drafts and stores the architecture of a book waiting for one.
    pub async fn architecture(&self, book_id: &str) -> RunOutcome {
        let id = book_id.to_string();
        let row = db::run(&self.db, move |c| match repo::books::get(c, &id) {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        })
        .await;
        let book = match row {
            Ok(Some(b)) => b,
            Ok(None) => return RunOutcome::Done("book deleted".into()),
            Err(e) => return RunOutcome::Retry(e.to_string()),
        };
        if book.status() != BookStatus::ArchitecturePending {
            return RunOutcome::Done(format!("book is {}; nothing to draft", book.status));
        }
        let request = ArchitectureRequest {
            book_id: Some(book_id.to_string()),
            language: book.language,
            target_pages: u32::try_from(book.target_pages).unwrap_or(100),
            idea: book.idea,
            genre: book.genre,
            audience: book.audience,
            tone: book.tone,
        };
        let result = match self
            .engine
            .supervisor
            .send(buko_actors::GenerateArchitecture(request))
            .await
        {
            Ok(r) => r,
            Err(e) => return RunOutcome::Retry(format!("engine unavailable: {e}")),
        };
        match result {
            Ok(done) => self.store_architecture(book_id, done.architecture).await,
            Err(ArchitectureFailure::Temporary(reason)) => RunOutcome::Retry(reason),
            Err(failure) => {
                let reason = failure.to_string();
                self.fail_architecture(book_id, &reason).await;
                RunOutcome::Failed(reason)
            }
        }
    }

    /// Stores a drafted architecture: only while the book waits for one (`architecture_pending`), with
    /// its status event published. What a finished architecture job does (tests call it to stand in for
    /// the LLM with a known architecture).
    pub async fn store_architecture(
        &self,
        book_id: &str,
        architecture: buko_actors::Architecture,
    ) -> RunOutcome {
        let (id, demo) = (book_id.to_string(), self.demo);
        let stored = db::run(&self.db, move |c| {
            repo::books::store_drafted_architecture(c, &id, &architecture, demo)
        })
        .await;
        match stored {
            Ok(Some(event)) => {
                self.publish(event);
                RunOutcome::Done("architecture ready".into())
            }
            Ok(None) => {
                RunOutcome::Done("book changed while drafting; architecture discarded".into())
            }
            Err(e) => RunOutcome::Retry(e.to_string()),
        }
    }

    async fn fail_architecture(&self, book_id: &str, reason: &str) {
        let (id, reason) = (book_id.to_string(), reason.to_string());
        let event = db::run(&self.db, move |c| {
            repo::books::fail_architecture(c, &id, &reason)
        })
        .await;
        match event {
            Ok(e) => self.publish(e),
            Err(e) => {
                log::error!(target: "buko::runner", book_id = book_id; "could not record a failed architecture: {e}")
            }
        }
    }

    /// A book the engine failed (provider or server trouble, never the author's doing) gives its
    /// quota back. Idempotent: a use is released once.
    async fn give_back_book(&self, book_id: &str) {
        let id = book_id.to_string();
        let released = db::run(&self.db, move |c| {
            crate::limits::quota::give_back(c, &id, crate::limits::quota::Quota::Book)
        })
        .await;
        if let Err(e) = released {
            log::error!(target: "buko::runner", book_id = book_id; "could not give the quota back: {e}");
        }
    }

    fn publish(&self, event: repo::events::EventRow) {
        self.engine
            .broadcaster
            .do_send(Publish(ProgressMessage::from_event(event.to_book_event())));
    }

    /// Writes (or resumes) a book as the owner identified by `fence`; returns when the run ends.
    pub async fn book(
        &self,
        book_id: &str,
        fence: Fence,
        regenerate_chapter: Option<buko_actors::Regenerate>,
    ) -> RunOutcome {
        let (id, demo) = (book_id.to_string(), self.demo);
        let owned = db::run(&self.db, move |c| {
            // A job that waited for the provider wakes up after the author cancelled the book.
            if repo::books::is_cancelled(c, &id)? {
                return Ok(None);
            }
            Ok(Some(repo::books::start_run(c, &id, fence, demo)))
        })
        .await;
        let owned = match owned {
            Ok(None) => return RunOutcome::Done("book cancelled".into()),
            Ok(Some(r)) => Ok(r),
            Err(e) => Err(e),
        };
        match owned {
            Ok(Ok(())) => {}
            Ok(Err(QueryError::Fenced(_))) => {
                return RunOutcome::Done("a newer generation owns the book".into())
            }
            Ok(Err(QueryError::NotFound(_))) => return RunOutcome::Done("book deleted".into()),
            Ok(Err(e)) => return RunOutcome::Retry(e.to_string()),
            Err(e) => return RunOutcome::Retry(e.to_string()),
        }
        let mut regenerate_chapter = regenerate_chapter;
        loop {
            let outcome = self.run_once(book_id, fence, regenerate_chapter).await;
            // Resume pressed while the pause was landing: the resume's job was merged into this one
            // (one active job per book), so this job carries on instead of leaving the book queued.
            if matches!(&outcome, Ok(BookOutcome::Paused(r)) if r == PAUSED_BY_AUTHOR)
                && self.resumed_since(book_id).await
            {
                log::info!(target: "buko::runner", book_id = book_id; "resumed while pausing; writing on");
                regenerate_chapter = None;
                continue;
            }
            return match outcome {
                Ok(BookOutcome::Completed) => RunOutcome::Done("completed".into()),
                Ok(BookOutcome::Cancelled) => RunOutcome::Done("cancelled".into()),
                Ok(BookOutcome::Paused(reason)) => RunOutcome::Done(format!("paused: {reason}")),
                Ok(BookOutcome::Fenced) => {
                    RunOutcome::Done("a newer generation owns the book".into())
                }
                Ok(BookOutcome::Failed(reason)) => {
                    self.give_back_book(book_id).await;
                    RunOutcome::Failed(reason)
                }
                Ok(BookOutcome::WaitingForProvider(retry_in)) => {
                    RunOutcome::Later(jittered(retry_in))
                }
                Err(run) => run,
            };
        }
    }

    /// One engine run of the book; `Err` is what the job must do when the engine could not run it.
    async fn run_once(
        &self,
        book_id: &str,
        fence: Fence,
        regenerate_chapter: Option<buko_actors::Regenerate>,
    ) -> Result<BookOutcome, RunOutcome> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let waiter = waiter::FinishWaiter::new(tx).start();
        let start = StartBook {
            book_id: book_id.to_string(),
            fence,
            regenerate_chapter,
            done: Some(waiter.recipient()),
        };
        match self.engine.supervisor.send(start).await {
            Ok(Ok(())) => {}
            Ok(Err(EngineError::AlreadyRunning(_))) => {
                return Err(RunOutcome::Retry(
                    "the book is still running on this node".into(),
                ))
            }
            Err(e) => return Err(RunOutcome::Retry(format!("engine unavailable: {e}"))),
        }
        rx.await
            .map_err(|_| RunOutcome::Retry("the engine stopped before the book finished".into()))
    }

    /// Whether the author resumed the book after its run stopped for their pause (the flag reads
    /// `run` again); the next run sets `generating` over the `paused` the stop wrote.
    async fn resumed_since(&self, book_id: &str) -> bool {
        let id = book_id.to_string();
        let flag = db::run(&self.db, move |c| repo::books::control_flag(c, &id)).await;
        matches!(flag, Ok(Some(f)) if f == "run")
    }
}

/// A scheduled wait plus up to a tenth more (at least 50 ms), so books waiting for the same breaker do
/// not all come back in the same instant; the first ones are its trial calls.
fn jittered(wait: std::time::Duration) -> std::time::Duration {
    use rand::Rng;
    let spread = (wait / 10).max(std::time::Duration::from_millis(50));
    let nanos = u64::try_from(spread.as_nanos()).unwrap_or(u64::MAX);
    wait + std::time::Duration::from_nanos(rand::rng().random_range(0..=nanos))
}
