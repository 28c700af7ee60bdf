//! Repositories: plain functions over `&mut DbConn`, one file per aggregate.

pub mod admin;
pub mod analytics;
pub mod api_keys;
pub mod audit;
pub mod billing;
pub mod books;
pub mod chapters;
pub mod covers;
pub mod credential_epoch;
pub mod engine;
pub mod events;
pub mod exports;
pub mod jobs;
pub mod login_throttle;
pub mod memory;
pub mod plans;
pub mod quota;
pub mod seed;
pub mod sessions;
pub mod users;
