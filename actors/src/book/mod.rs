//! Writing one book: the orchestrator actor, its run, the chunk writer and the book's context.

pub(crate) mod ctx;
mod memory;
pub mod orchestrator;
mod run;
mod writer;

pub(crate) use ctx::BookCtx;
pub use ctx::PAUSED_BY_AUTHOR;
pub use orchestrator::{BookOrchestrator, OrchestratorExited, StopRun};
