//! The integration-test binary: the app over real HTTP on a random port with its own database
//! (a temporary SQLite file, or a fresh PostgreSQL database when `TEST_DATABASE_URL` is set).

mod api_v1;
mod auth;
mod books;
mod browser;
mod health;
mod helpers;
mod llm;
mod metrics;
mod runner;
mod ws;
