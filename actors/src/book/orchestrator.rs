//! BookOrchestrator: the actor owning one book's run on this node. It runs [`run_book`] as its only
//! future, stops it at once on a stop (pause / cancel: a direct message, or the supervisor's control
//! watch when the flag was set on another node) and records why, and tells the supervisor
//! how it ended — from `Drop`, so a panic is reported too (as "no outcome", which means restart).

use actix::prelude::*;

use super::ctx::BookCtx;
use super::run::run_book;
use crate::deps::EngineDeps;
use crate::outcome::{BookOutcome, Halt};
use crate::ports::{Control, Fence};

/// Sent to the supervisor when an orchestrator is gone. `outcome: None` means it died without
/// finishing (panic, stopped from outside, or the store stayed unavailable) and should be restarted.
#[derive(Message)]
#[rtype(result = "()")]
pub struct OrchestratorExited {
    pub book_id: String,
    pub generation: u64,
    pub outcome: Option<BookOutcome>,
}

/// Stop writing now: pause or cancel (a `Run` is ignored).
#[derive(Message)]
#[rtype(result = "()")]
pub struct StopRun(pub Control);

pub struct BookOrchestrator {
    deps: EngineDeps,
    book_id: String,
    fence: Fence,
    regenerate_chapter: Option<crate::model::Regenerate>,
    generation: u64,
    supervisor: Recipient<OrchestratorExited>,
    /// Stop before writing anything (a stop arrived while a restart was pending).
    initial_stop: Option<Control>,
    run: Option<SpawnHandle>,
    stopping: bool,
    outcome: Option<BookOutcome>,
}

impl BookOrchestrator {
    pub(crate) fn new(
        deps: EngineDeps,
        book_id: String,
        fence: Fence,
        regenerate_chapter: Option<crate::model::Regenerate>,
        generation: u64,
        supervisor: Recipient<OrchestratorExited>,
        initial_stop: Option<Control>,
    ) -> Self {
        BookOrchestrator {
            deps,
            book_id,
            fence,
            regenerate_chapter,
            generation,
            supervisor,
            initial_stop,
            run: None,
            stopping: false,
            outcome: None,
        }
    }

    fn book_ctx(&self) -> BookCtx {
        BookCtx::new(self.deps.clone(), self.book_id.clone(), self.fence)
    }

    fn stop_with(&mut self, halt: Halt, ctx: &mut Context<Self>) {
        // Already stopping, or the run just ended (its outcome stands; a late stop must not undo it).
        if self.stopping || self.outcome.is_some() {
            return;
        }
        self.stopping = true;
        if let Some(handle) = self.run.take() {
            // Drops the writer mid-stream: nothing more is written or committed for this run.
            ctx.cancel_future(handle);
        }
        let book = self.book_ctx();
        ctx.spawn(
            async move { book.finalize(halt).await }
                .into_actor(self)
                .map(|outcome, act, ctx| {
                    act.outcome = Some(outcome);
                    ctx.stop();
                }),
        );
    }
}

impl Actor for BookOrchestrator {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        if let Some(halt) = self.initial_stop.take().and_then(Halt::from_control) {
            self.stop_with(halt, ctx);
            return;
        }
        let run = run_book(self.book_ctx(), self.regenerate_chapter.clone());
        self.run = Some(ctx.spawn(run.into_actor(self).map(|outcome, act, ctx| {
            act.run = None;
            act.outcome = outcome;
            ctx.stop();
        })));
    }
}

impl Handler<StopRun> for BookOrchestrator {
    type Result = ();
    fn handle(&mut self, msg: StopRun, ctx: &mut Self::Context) {
        if let Some(halt) = Halt::from_control(msg.0) {
            self.stop_with(halt, ctx);
        }
    }
}

impl Drop for BookOrchestrator {
    fn drop(&mut self) {
        self.supervisor.do_send(OrchestratorExited {
            book_id: self.book_id.clone(),
            generation: self.generation,
            outcome: self.outcome.take(),
        });
    }
}
