//! GenerationSupervisor (one per node): starts and stops book orchestrators, restarts one that dies
//! without an outcome (panic, or stopped from outside) with bounded exponential backoff, tells the job
//! queue how each run ended, and says what runs. It writes nothing itself except the final `failed`
//! status of a book that kept crashing.

use std::collections::HashMap;

use actix::prelude::*;
use chrono::{DateTime, Utc};

use crate::architecture::{generate_architecture, ArchitectureRequest, ArchitectureResult};
use crate::book::{BookOrchestrator, OrchestratorExited, StopRun};
use crate::broadcast::SetBookOwner;
use crate::deps::EngineDeps;
use crate::outcome::{BookFinished, BookOutcome, Halt};
use crate::ports::{Control, Fence};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error("book {0} is already being written on this node")]
    AlreadyRunning(String),
}

/// Start (or resume, or regenerate a chapter of) a book on this node.
#[derive(Message)]
#[rtype(result = "Result<(), EngineError>")]
pub struct StartBook {
    pub book_id: String,
    pub fence: Fence,
    pub regenerate_chapter: Option<crate::model::Regenerate>,
    pub done: Option<Recipient<BookFinished>>,
}

/// Pause or cancel a book running here, at once. `false` when it does not run on this node (the
/// store's control flag then reaches it between chunks wherever it runs).
#[derive(Message)]
#[rtype(result = "bool")]
pub struct StopBook {
    pub book_id: String,
    pub control: Control,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunningBook {
    pub book_id: String,
    pub fence: Fence,
    pub restarts: u32,
    pub since: DateTime<Utc>,
}

#[derive(Message)]
#[rtype(result = "Vec<RunningBook>")]
pub struct RunningBooks;

/// Generate an architecture from an idea (see [`generate_architecture`]).
#[derive(Message)]
#[rtype(result = "Result<ArchitectureResult, crate::architecture::ArchitectureFailure>")]
pub struct GenerateArchitecture(pub ArchitectureRequest);

struct Running {
    addr: Option<Addr<BookOrchestrator>>,
    fence: Fence,
    regenerate_chapter: Option<crate::model::Regenerate>,
    done: Option<Recipient<BookFinished>>,
    restarts: u32,
    generation: u64,
    since: DateTime<Utc>,
    /// A pause / cancel was asked: a restart only records it, it never writes again.
    stop_requested: Option<Control>,
}

pub struct GenerationSupervisor {
    deps: EngineDeps,
    books: HashMap<String, Running>,
    next_generation: u64,
    /// A read of the books' control flags is in flight (the watch's reads never overlap).
    polling: bool,
}

impl GenerationSupervisor {
    pub fn new(deps: EngineDeps) -> Self {
        GenerationSupervisor {
            deps,
            books: HashMap::new(),
            next_generation: 1,
            polling: false,
        }
    }

    pub fn deps(&self) -> &EngineDeps {
        &self.deps
    }

    fn spawn(&mut self, book_id: &str, initial_stop: Option<Control>, ctx: &mut Context<Self>) {
        let generation = self.next_generation;
        self.next_generation += 1;
        let Some(run) = self.books.get_mut(book_id) else {
            return;
        };
        // Once a chapter was discarded, a restart must not discard it again (it may be half rewritten).
        let regenerate = if run.restarts == 0 {
            run.regenerate_chapter.clone()
        } else {
            None
        };
        let orchestrator = BookOrchestrator::new(
            self.deps.clone(),
            book_id.to_string(),
            run.fence,
            regenerate,
            generation,
            ctx.address().recipient(),
            initial_stop,
        );
        run.generation = generation;
        run.addr = Some(orchestrator.start());
    }

    fn finish(&mut self, book_id: &str, outcome: BookOutcome) {
        if let Some(run) = self.books.remove(book_id) {
            log::info!("book {book_id} finished on this node: {outcome:?}");
            // Queued after the run's last events (same mailbox), so they still reached the owner.
            self.deps.broadcaster.do_send(SetBookOwner {
                book_id: book_id.to_string(),
                user_id: None,
            });
            if let Some(done) = run.done {
                done.do_send(BookFinished {
                    book_id: book_id.to_string(),
                    outcome,
                });
            }
        }
    }
}

impl GenerationSupervisor {
    /// The control watch: every `control_poll`, one read of the author's flags for all the books
    /// running here, so a pause or cancel set on another node (or whose direct message was lost)
    /// stops the stream in progress within that time — at one query per node, not one per book.
    fn poll_controls(&mut self, ctx: &mut Context<Self>) {
        if self.polling {
            return;
        }
        let ids: Vec<String> = self
            .books
            .iter()
            .filter(|(_, run)| run.addr.is_some())
            .map(|(id, _)| id.clone())
            .collect();
        if ids.is_empty() {
            return;
        }
        self.polling = true;
        let read = self.deps.store.controls(ids);
        ctx.spawn(read.into_actor(self).map(|flags, act, _| {
            act.polling = false;
            // A store error is not a reason to stop: each run meets it at its next write.
            for (id, control) in flags.unwrap_or_default() {
                if let Some(addr) = act.books.get(&id).and_then(|run| run.addr.as_ref()) {
                    addr.do_send(StopRun(control));
                }
            }
        }));
    }
}

impl Actor for GenerationSupervisor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        let every = self.deps.config.control_poll;
        if !every.is_zero() {
            ctx.run_interval(every, |act, ctx| act.poll_controls(ctx));
        }
    }
}

impl Handler<StartBook> for GenerationSupervisor {
    type Result = Result<(), EngineError>;
    fn handle(&mut self, msg: StartBook, ctx: &mut Self::Context) -> Self::Result {
        if self.books.contains_key(&msg.book_id) {
            return Err(EngineError::AlreadyRunning(msg.book_id));
        }
        let running = Running {
            addr: None,
            fence: msg.fence,
            regenerate_chapter: msg.regenerate_chapter,
            done: msg.done,
            restarts: 0,
            generation: 0,
            since: self.deps.clock.now(),
            stop_requested: None,
        };
        self.books.insert(msg.book_id.clone(), running);
        self.spawn(&msg.book_id, None, ctx);
        Ok(())
    }
}

impl Handler<StopBook> for GenerationSupervisor {
    type Result = bool;
    fn handle(&mut self, msg: StopBook, ctx: &mut Self::Context) -> bool {
        let Some(run) = self.books.get(&msg.book_id) else {
            return false;
        };
        match &run.addr {
            Some(addr) => addr.do_send(StopRun(msg.control)),
            // A restart is pending: start an orchestrator that only records the stop.
            None => self.spawn(&msg.book_id, Some(msg.control), ctx),
        }
        true
    }
}

impl Handler<RunningBooks> for GenerationSupervisor {
    type Result = MessageResult<RunningBooks>;
    fn handle(&mut self, _: RunningBooks, _: &mut Self::Context) -> Self::Result {
        let mut list: Vec<RunningBook> = self
            .books
            .iter()
            .map(|(id, r)| RunningBook {
                book_id: id.clone(),
                fence: r.fence,
                restarts: r.restarts,
                since: r.since,
            })
            .collect();
        list.sort_by(|a, b| a.book_id.cmp(&b.book_id));
        MessageResult(list)
    }
}

impl Handler<OrchestratorExited> for GenerationSupervisor {
    type Result = ();
    fn handle(&mut self, msg: OrchestratorExited, ctx: &mut Self::Context) {
        let Some(run) = self.books.get_mut(&msg.book_id) else {
            return;
        };
        if run.generation != msg.generation {
            return; // an older orchestrator of this book
        }
        run.addr = None;
        if let Some(outcome) = msg.outcome {
            self.finish(&msg.book_id, outcome);
            return;
        }
        let config = &self.deps.config;
        if run.restarts >= config.max_restarts {
            let reason = format!(
                "the writer crashed {} times; see the server log",
                run.restarts + 1
            );
            log::error!("book {}: {reason}", msg.book_id);
            let book = crate::book::BookCtx::new(self.deps.clone(), msg.book_id.clone(), run.fence);
            let book_id = msg.book_id;
            ctx.spawn(
                async move { book.finalize(Halt::Failed(reason)).await }
                    .into_actor(self)
                    .map(move |outcome, act, _| act.finish(&book_id, outcome)),
            );
            return;
        }
        let delay = config
            .restart_backoff
            .saturating_mul(2u32.saturating_pow(run.restarts.min(16)));
        run.restarts += 1;
        log::warn!(
            "book {}: orchestrator died; restart {} in {delay:?}",
            msg.book_id,
            run.restarts
        );
        let generation = run.generation;
        let book_id = msg.book_id;
        ctx.run_later(delay, move |act, ctx| {
            // Still waiting for this restart (not stopped or finished meanwhile)?
            let pending = act
                .books
                .get(&book_id)
                .filter(|r| r.addr.is_none() && r.generation == generation);
            if let Some(stop) = pending.map(|r| r.stop_requested) {
                act.spawn(&book_id, stop, ctx);
            }
        });
    }
}

impl Handler<GenerateArchitecture> for GenerationSupervisor {
    type Result =
        ResponseFuture<Result<ArchitectureResult, crate::architecture::ArchitectureFailure>>;
    fn handle(&mut self, msg: GenerateArchitecture, _: &mut Self::Context) -> Self::Result {
        let deps = self.deps.clone();
        Box::pin(async move { generate_architecture(&deps, msg.0).await })
    }
}
