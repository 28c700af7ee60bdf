//! Repositories: plain functions over `&mut DbConn`, one file per aggregate.

pub mod admin;
pub mod api_keys;
pub mod audit;
pub mod books;
pub mod chapter_versions;
pub mod chapters;
pub mod events;
pub mod users;
