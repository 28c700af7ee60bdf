//! The author's book pages: library and idea wizard ([`library`]), architecture review ([`review`]),
//! live view and controls ([`live`]), the cost limit ([`budget`]), reader and downloads ([`reader`]),
//! the continuity audit and story ledger forms ([`memory`]), the chapter editor with its versions
//! and regenerate ([`chapters`]), the cover editor ([`cover`]). Thin HTML doors over
//! `crate::books` (the same use cases as the API): another user's book is a 404 everywhere.

pub mod budget;
pub mod chapters;
pub mod cover;
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
        .configure(chapters::routes)
        .configure(budget::routes)
        .configure(cover::routes);
}

/// A run of a paragraph as a page shows it: its emphasis, and whether it is quoted evidence of a
/// continuity finding (`<mark>`).
pub struct Piece {
    pub text: String,
    pub italic: bool,
    pub bold: bool,
    pub mark: bool,
}

/// A chapter's text as paragraphs (blank-line separated) of runs with their emphasis (`*x*`, `_x_`,
/// `**x**`): the exports' own parser, so a page shows what a download prints. A run holding one of
/// `quotes` is cut around it, the quote marked. Templates escape every run's text and add only
/// `<em>` / `<strong>` / `<mark>` (`books/prose.html`).
pub fn prose(text: &str, quotes: &[&str]) -> Vec<Vec<Piece>> {
    text.split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .map(|p| {
            buko_export::parse_inline(&p)
                .into_iter()
                .flat_map(|run| mark_quotes(run, quotes))
                .collect()
        })
        .collect()
}

fn mark_quotes(run: buko_export::model::Run, quotes: &[&str]) -> Vec<Piece> {
    let piece = |text: &str, mark: bool| Piece {
        text: text.to_string(),
        italic: run.italic,
        bold: run.bold,
        mark,
    };
    let found = quotes
        .iter()
        .filter(|q| !q.is_empty())
        .find_map(|q| run.text.find(q).map(|i| (i, i + q.len())));
    match found {
        Some((start, end)) => [
            piece(&run.text[..start], false),
            piece(&run.text[start..end], true),
            piece(&run.text[end..], false),
        ]
        .into_iter()
        .filter(|p| !p.text.is_empty())
        .collect(),
        None => vec![piece(&run.text, false)],
    }
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
