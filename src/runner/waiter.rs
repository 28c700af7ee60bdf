//! A one-shot actor that turns the engine's `BookFinished` message into a future the job can await.

use actix::{Actor, ActorContext, Context, Handler};
use buko_actors::{BookFinished, BookOutcome};
use tokio::sync::oneshot;

pub struct FinishWaiter {
    tx: Option<oneshot::Sender<BookOutcome>>,
}

impl FinishWaiter {
    pub fn new(tx: oneshot::Sender<BookOutcome>) -> Self {
        FinishWaiter { tx: Some(tx) }
    }
}

impl Actor for FinishWaiter {
    type Context = Context<Self>;
}

impl Handler<BookFinished> for FinishWaiter {
    type Result = ();

    fn handle(&mut self, msg: BookFinished, ctx: &mut Context<Self>) {
        if let Some(tx) = self.tx.take() {
            // The job may have given up waiting; then nobody needs the outcome.
            let _ = tx.send(msg.outcome);
        }
        ctx.stop();
    }
}
