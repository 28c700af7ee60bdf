//! Buko: an AI book studio. This crate adapts the generation engine (`buko-actors`) to the world:
//! HTTP and WebSocket, storage, LLM providers, the job queue, exports and operations.

pub mod accounts;
pub mod admin;
pub mod analytics;
pub mod app;
pub mod billing;
pub mod books;
pub mod bus;
pub mod cli;
pub mod config;
pub mod db;
pub mod email;
pub mod error;
pub mod export;
pub mod generate;
pub mod i18n;
pub mod images;
pub mod lifecycle;
pub mod limits;
pub mod llm;
pub mod metrics;
pub mod node;
pub mod ops;
pub mod payments;
pub mod process;
pub mod queue;
pub mod runner;
pub mod secret;
pub mod sessions;
pub mod shutdown;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod web;
pub mod ws;

pub use app::Application;
pub use config::Settings;
