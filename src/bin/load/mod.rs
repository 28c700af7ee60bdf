//! Modules of the `buko-load` program (issue 9): see `src/bin/buko-load.rs` for the phases of a run.

pub mod args;
pub mod books;
pub mod browse;
pub mod delivery;
pub mod hist;
pub mod http;
pub mod live;
pub mod nodes;
pub mod plan;
pub mod procstat;
pub mod report;
pub mod setup;
pub mod shard;
pub mod stream;
pub mod ws;
