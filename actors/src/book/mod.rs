//! Writing one book: the orchestrator actor, its run, the chunk writer and the book's context.

mod budget;
pub(crate) mod ctx;
pub(crate) mod length;
mod memory;
pub mod orchestrator;
mod run;
mod writer;

pub use budget::{expected_tokens, BUDGET_REACHED};
pub(crate) use ctx::BookCtx;
pub use ctx::PAUSED_BY_AUTHOR;
pub use orchestrator::{BookOrchestrator, OrchestratorExited, StopRun};
