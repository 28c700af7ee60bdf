//! The author's book pages: library and idea wizard ([`library`]), architecture review ([`review`]),
//! live view and controls ([`live`]), reader and downloads ([`reader`]), the continuity audit and
//! story ledger forms ([`memory`]), the chapter editor with its
//! versions and regenerate ([`chapters`]). Thin HTML doors over
//! `crate::books` (the same use cases as the API): another user's book is a 404 everywhere.

pub mod chapters;
pub mod library;
pub mod live;
pub mod memory;
pub mod reader;
pub mod review;

use actix_web::web;

use crate::db::repo::books::Book;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.configure(library::routes)
        .configure(review::routes)
        .configure(live::routes)
        .configure(reader::routes)
        .configure(memory::routes)
        .configure(chapters::routes);
}

impl Book {
    /// The i18n key of the book's status label.
    pub fn status_key(&self) -> &'static str {
        match self.status() {
            buko_actors::BookStatus::Draft => "status.draft",
            buko_actors::BookStatus::ArchitecturePending => "status.architecture_pending",
            buko_actors::BookStatus::ArchitectureReady => "status.architecture_ready",
            buko_actors::BookStatus::Queued => "status.queued",
            buko_actors::BookStatus::Generating => "status.generating",
            buko_actors::BookStatus::Paused => "status.paused",
            buko_actors::BookStatus::Completed => "status.completed",
            buko_actors::BookStatus::Failed => "status.failed",
            buko_actors::BookStatus::Cancelled => "status.cancelled",
        }
    }
}
