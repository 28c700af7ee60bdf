//! The author's book pages: library and idea wizard ([`library`]), architecture review ([`review`]),
//! live view and controls ([`live`]), the cost limit ([`budget`]), reader and downloads ([`reader`]),
//! the chapter editor with its versions and regenerate ([`chapters`]), the cover editor ([`cover`]).
//! Thin HTML doors over
//! `crate::books` (the same use cases as the API): another user's book is a 404 everywhere.

pub mod budget;
pub mod chapters;
pub mod cover;
pub mod library;
pub mod live;
pub mod reader;
pub mod review;

use actix_web::web;

use crate::db::repo::books::Book;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.configure(library::routes)
        .configure(review::routes)
        .configure(live::routes)
        .configure(reader::routes)
        .configure(chapters::routes)
        .configure(budget::routes)
        .configure(cover::routes);
}

/// A chapter's text as paragraphs (blank-line separated) of runs with their emphasis (`*x*`, `_x_`,
/// `**x**`): the exports' own parser, so a page shows what a download prints. Templates escape every
/// run's text and add only `<em>` / `<strong>` (`books/prose.html`).
pub fn prose(text: &str) -> Vec<Vec<buko_export::model::Run>> {
    text.split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .map(|p| buko_export::parse_inline(&p))
        .collect()
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
