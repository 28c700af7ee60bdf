//! The integration-test binary: the app over real HTTP on a random port with its own database
//! (a temporary SQLite file, or a fresh PostgreSQL database when `TEST_DATABASE_URL` is set).

mod admin;
mod admin_ws;
mod analytics;
mod api_v1;
mod architecture;
mod auth;
mod authz;
mod billing;
mod books;
mod browser;
mod cli;
mod doors;
mod exports;
mod hardening;
mod health;
mod helpers;
mod llm;
mod metrics;
mod queue;
mod queue_app;
mod queue_db;
mod queue_nodes;
mod queue_pool;
mod redis;
mod redis_slow;
mod redis_support;
mod runner;
mod schemathesis;
mod security;
mod sessions;
mod ws;
mod ws_gaps;
mod ws_security;
mod xss;
