//! Buko's generation engine: a supervised tree of actix actors that plans and writes books through the
//! ports in [`ports`]. It knows no HTTP and no SQL; `src/` adapts it to the world.
//!
//! # Starting the tree (once per node, inside an actix `System`)
//! ```text
//! let engine = Engine::start(llm, store, Arc::new(NoRemote), Arc::new(SystemClock), EngineConfig::default());
//! ```
//! [`Engine`] holds `supervisor: Addr<GenerationSupervisor>` and `broadcaster: Addr<ProgressBroadcaster>`.
//!
//! # Queue worker
//! - `supervisor.send(StartBook { book_id, fence, regenerate_chapter, done: Some(recipient) })` →
//!   `Err(EngineError::AlreadyRunning)` if the book runs here. `done` receives one
//!   [`BookFinished`] `{ book_id, outcome }` with [`BookOutcome`] `Completed | Failed(reason) |
//!   Cancelled | Paused(reason) | Fenced`: complete the job on it (a `Paused` run frees the worker; a
//!   later resume starts a new job; `Fenced` means another node owns the book: drop the job quietly).
//! - `supervisor.send(StopBook { book_id, control })` pauses / cancels at once when the book runs here
//!   (also set the control flag in the store: it is read between chunks on whatever node runs it, and
//!   while a book waits for an open breaker).
//! - Durable events (written with the state change they report — `commit_chunk`, `save_chapter_summary`,
//!   `set_status` take `NewEvent`s — or alone through `BookStore::append_event`; published once
//!   stored, in seq order): `status` {status, reason},
//!   `chunk_started` {seq, chapter_index, part_index, parts_in_chapter, attempt} — sent again for each
//!   retry of a chunk, so a client restarts that chunk's text —, `chunk_completed` {seq, chapter_index,
//!   part_index, words}, `chapter_completed` {chapter_index, title}, `book_completed` {chunks, usage},
//!   `error` {message}. While the provider's breaker is open the book is `paused` with reason
//!   `provider_unavailable` and goes back to `generating` by itself.
//! - `supervisor.send(RunningBooks)` lists what runs; `GenerateArchitecture(ArchitectureRequest)`
//!   returns an [`architecture::ArchitectureResult`] (or call [`architecture::generate_architecture`]).
//!
//! # Subscribers (WebSocket sessions, the admin dashboard, the Redis relay)
//! - On `started`: `broadcaster.send(Register { recipient: ctx.address().recipient() })` → id; then
//!   `Subscribe { id, topic: Topic::Book(id) | Topic::User(id) | Topic::Admin | Topic::All }`. A book
//!   subscription is answered at once with a `snapshot` when a chunk is being written.
//! - Handle [`Deliver`]: `Message(Arc<Outgoing>)` → write `outgoing.json` as a text frame (serialized
//!   once for everyone); `Dropped { reason }` → your mailbox was full, you are unsubscribed: close.
//! - On `stopping`: `Unregister { id }`. Keep the mailbox small (it is the outbound bound).
//! - Messages from other nodes: `broadcaster.do_send(Relay(msg))`; local ones go out through the
//!   `ProgressSink` given at start. Metrics: `GetCounts`. Replay after a reconnect (`after_seq`) is the
//!   session's job (read the stored events); events carry the store's seq, so duplicates are dropped by seq.

pub mod architecture;
pub mod audit;
pub mod book;
pub mod breaker;
pub mod broadcast;
mod caller;
pub mod config;
pub mod deps;
pub mod layout;
pub mod ledger;
mod llm_call;
pub mod memory;
pub mod model;
pub mod outcome;
pub mod plan;
pub mod ports;
pub mod progress;
pub mod prompt;
pub mod retry;
pub mod sink;
pub mod supervisor;
pub mod usage;

use std::sync::Arc;

use actix::{Actor, Addr, Arbiter};

pub use architecture::{ArchitectureFailure, ArchitectureRequest, ArchitectureResult};
pub use book::{BUDGET_REACHED, PAUSED_BY_AUTHOR};
pub use broadcast::{
    BroadcasterCounts, Deliver, GetCounts, Outgoing, ProgressBroadcaster, Publish, Register, Relay,
    SetBookOwner, Subscribe, SubscriberId, Unregister, Unsubscribe,
};
pub use config::{BreakerConfig, EngineConfig, RetryConfig};
pub use deps::EngineDeps;
pub use model::{
    Architecture, BookStatus, Finding, FindingKind, Language, Ledger, Place, Regenerate,
};
pub use outcome::{BookFinished, BookOutcome};
pub use ports::*;
pub use progress::{log_if_slow, log_slow_event};
pub use progress::{ProgressMessage, Topic};
pub use sink::{NoRemote, ProgressSink};
pub use supervisor::{
    EngineError, GenerateArchitecture, GenerationSupervisor, RunningBook, RunningBooks, StartBook,
    StopBook,
};

/// The started tree of one node.
#[derive(Clone)]
pub struct Engine {
    pub supervisor: Addr<GenerationSupervisor>,
    pub broadcaster: Addr<ProgressBroadcaster>,
    pub deps: EngineDeps,
}

impl Engine {
    /// Starts the supervisor on the current arbiter and the broadcaster on an arbiter of its own
    /// (a thread): the fan-out to every socket never waits behind the engine's work (parsing
    /// streams, planning, the offline writer), which held a shared thread at 100 % in the fan-out
    /// benchmark (docs/PERFORMANCE.md, "The broadcaster's own thread").
    pub fn start(
        llm: Arc<dyn LlmPort>,
        store: Arc<dyn BookStore>,
        sink: Arc<dyn ProgressSink>,
        clock: Arc<dyn Clock>,
        config: EngineConfig,
    ) -> Engine {
        let coalesce = config.coalesce;
        let broadcaster =
            ProgressBroadcaster::start_in_arbiter(&Arbiter::new().handle(), move |_| {
                name_this_thread("broadcaster");
                ProgressBroadcaster::new(sink, coalesce)
            });
        let to_broadcaster = broadcaster.clone();
        let store_publishes = store.publish_commits_to(Arc::new(move |event| {
            to_broadcaster.do_send(Publish(ProgressMessage::from_event(event)));
        }));
        let mut deps = EngineDeps::new(llm, store, broadcaster.clone(), clock, config);
        deps.store_publishes = store_publishes;
        let supervisor = GenerationSupervisor::new(deps.clone()).start();
        Engine {
            supervisor,
            broadcaster,
            deps,
        }
    }
}

/// Names the calling thread (as `top`, `perf` and `/proc/PID/task/*/comm` show it; Linux keeps 15
/// bytes). actix names every arbiter `actix-rt|system:N|arbiter:M`, which those tools cut to the same
/// `actix-rt|system`, so the HTTP workers, the broadcaster and the engine could not be told apart in a
/// profile. Best effort: elsewhere than Linux, or when `/proc` is not mounted, nothing happens.
pub fn name_this_thread(name: &str) {
    let name: String = name.chars().take(15).collect();
    let _ = std::fs::write("/proc/thread-self/comm", name);
}
