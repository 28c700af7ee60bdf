//! Runs jobs on the engine: an architecture job asks the engine for an architecture and stores it; a
//! book job takes ownership of the book with the job's fence and lets the supervisor write it, then waits
//! for the outcome. Used by the queue's workers and by `buko generate`.

pub mod handlers;
mod waiter;

use actix::Actor;
use buko_actors::{
    ArchitectureFailure, ArchitectureRequest, BookOutcome, BookStatus, Engine, EngineError, Fence,
    Language, ProgressMessage, Publish, StartBook,
};
use diesel::prelude::*;

use crate::db::schema::books;
use crate::db::{self, now, repo, DbPool};
use crate::store::queries::{self, QueryError};

/// What became of a job, for the queue to complete, retry or fail it.
#[derive(Debug, PartialEq)]
pub enum RunOutcome {
    /// Finished (successfully or with the book marked failed / paused / cancelled — nothing to retry).
    Done(String),
    /// A temporary problem: run the job again later.
    Retry(String),
    /// The job cannot succeed (and the book says why when there is one).
    Failed(String),
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
        let row = db::run(&self.db, move |c| {
            Ok(books::table
                .find(&id)
                .select((
                    books::status,
                    books::idea,
                    books::genre,
                    books::audience,
                    books::language,
                    books::tone,
                    books::target_pages,
                ))
                .first::<(String, String, String, String, String, String, i32)>(c)
                .optional()?)
        })
        .await;
        let (status, idea, genre, audience, language, tone, pages) = match row {
            Ok(Some(r)) => r,
            Ok(None) => return RunOutcome::Done("book deleted".into()),
            Err(e) => return RunOutcome::Retry(e.to_string()),
        };
        if status != BookStatus::ArchitecturePending.as_str() {
            return RunOutcome::Done(format!("book is {status}; nothing to draft"));
        }
        let request = ArchitectureRequest {
            book_id: Some(book_id.to_string()),
            idea,
            genre,
            audience,
            language: Language::parse(&language).unwrap_or_default(),
            tone,
            target_pages: u32::try_from(pages).unwrap_or(100),
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
            crate::db::write_tx(c, |c| {
                let json = serde_json::to_string(&architecture)
                    .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
                let n = diesel::update(books::table.find(&id).filter(books::status.eq(BookStatus::ArchitecturePending.as_str())))
                    .set((
                        books::architecture.eq(Some(json)),
                        books::title.eq(&architecture.title),
                        books::status.eq(BookStatus::ArchitectureReady.as_str()),
                        books::status_reason.eq(None::<String>),
                        books::is_demo.eq(demo),
                        books::updated_at.eq(now()),
                    ))
                    .execute(c)?;
                if n == 0 {
                    return Ok(None);
                }
                let data = serde_json::json!({ "status": BookStatus::ArchitectureReady.as_str(), "reason": null });
                Ok(Some(repo::events::append(c, &id, "status", &data)?))
            })
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
            crate::db::write_tx(c, |c| {
                diesel::update(
                    books::table
                        .find(&id)
                        .filter(books::status.eq(BookStatus::ArchitecturePending.as_str())),
                )
                .set((
                    books::status.eq(BookStatus::Failed.as_str()),
                    books::status_reason.eq(&reason),
                    books::updated_at.eq(now()),
                ))
                .execute(c)?;
                let data =
                    serde_json::json!({ "status": BookStatus::Failed.as_str(), "reason": reason });
                repo::events::append(c, &id, "status", &data)
            })
        })
        .await;
        match event {
            Ok(e) => self.publish(e),
            Err(e) => {
                log::error!(target: "buko::runner", book_id = book_id; "could not record a failed architecture: {e}")
            }
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
            Ok(queries::take_ownership(c, &id, fence).and_then(|()| {
                diesel::update(books::table.find(&id))
                    .set((books::is_demo.eq(demo), books::control.eq("run")))
                    .execute(c)
                    .map(|_| ())
                    .map_err(QueryError::from)
            }))
        })
        .await;
        match owned {
            Ok(Ok(())) => {}
            Ok(Err(QueryError::Fenced(_))) => {
                return RunOutcome::Done("a newer generation owns the book".into())
            }
            Ok(Err(QueryError::NotFound(_))) => return RunOutcome::Done("book deleted".into()),
            Ok(Err(e)) => return RunOutcome::Retry(e.to_string()),
            Err(e) => return RunOutcome::Retry(e.to_string()),
        }
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
                return RunOutcome::Retry("the book is still running on this node".into())
            }
            Err(e) => return RunOutcome::Retry(format!("engine unavailable: {e}")),
        }
        match rx.await {
            Ok(BookOutcome::Completed) => RunOutcome::Done("completed".into()),
            Ok(BookOutcome::Cancelled) => RunOutcome::Done("cancelled".into()),
            Ok(BookOutcome::Paused(reason)) => RunOutcome::Done(format!("paused: {reason}")),
            Ok(BookOutcome::Fenced) => RunOutcome::Done("a newer generation owns the book".into()),
            Ok(BookOutcome::Failed(reason)) => RunOutcome::Failed(reason),
            Err(_) => RunOutcome::Retry("the engine stopped before the book finished".into()),
        }
    }
}
