//! The engine's integration tests: one binary, in-memory fakes of every port, a scripted LLM.

#![allow(clippy::unwrap_used)] // a failed lock or lookup in a test is a failed test

mod broadcaster;
mod controls;
mod cost_length;
mod failures;
mod helpers;
mod lifecycle;
mod llm;
mod long_outline;
mod memory;
mod outages;
mod store;
