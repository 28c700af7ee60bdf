//! The integration-test binary: the app over real HTTP on a random port with its own database
//! (a temporary SQLite file, or a fresh PostgreSQL database when `TEST_DATABASE_URL` is set).

mod admin;
mod admin_ws;
mod api_v1;
mod auth;
mod authz;
mod books;
mod browser;
mod browser_studio;
mod cli;
mod credits;
mod exports;
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
mod redis_support;
mod runner;
mod schemathesis;
mod security;
mod versions;
mod ws;
mod xss;
