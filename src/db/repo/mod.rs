//! Repositories: plain functions over `&mut DbConn`, one file per aggregate.

pub mod admin;
pub mod api_keys;
pub mod audit;
pub mod books;
pub mod chapters;
pub mod engine;
pub mod events;
pub mod exports;
pub mod jobs;
pub mod users;
