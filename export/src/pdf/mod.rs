//! PDF export through typst used as a library. The layout lives in the fixed
//! template `book.typ`; the book itself is handed over as JSON data
//! (`/book.json`) and placed only as strings, so no title or chapter text can
//! ever be interpreted as typst markup or code. Any typst warning fails the
//! export: a missing font, for one, only warns and yields a PDF without text.

mod data;
mod world;

use std::sync::atomic::{AtomicUsize, Ordering};

use typst::diag::{SourceDiagnostic, Warned};
use typst::foundations::Smart;
use typst_layout::PagedDocument;
use typst_pdf::{PdfOptions, Timestamp};

use crate::model::Book;
use crate::ExportError;

pub fn render(book: &Book) -> Result<Vec<u8>, ExportError> {
    let data = data::book_json(book).map_err(|e| ExportError::Pdf(format!("book data: {e}")))?;
    let world = world::BookWorld::new(world::TEMPLATE, data, book.date)?
        .with_cover(book.cover_jpeg.as_deref());
    let _in_flight = InFlight::enter();
    let document = compile(&world)?;
    let options = PdfOptions {
        ident: Smart::Custom(book.id.clone()),
        creator: Smart::Custom(Some("Buko".to_owned())),
        timestamp: world::typst_date(book.date).map(Timestamp::new_utc),
        ..PdfOptions::default()
    };
    typst_pdf::pdf(&document, &options).map_err(|errors| ExportError::Pdf(describe(&errors)))
}

/// Lays the document out; errors and warnings alike fail the export.
fn compile(world: &world::BookWorld) -> Result<PagedDocument, ExportError> {
    let Warned { output, warnings } = typst::compile::<PagedDocument>(world);
    let document = output.map_err(|errors| ExportError::Pdf(describe(&errors)))?;
    if warnings.is_empty() {
        Ok(document)
    } else {
        Err(ExportError::Pdf(format!(
            "typst warned: {}",
            describe(&warnings)
        )))
    }
}

/// Counts PDF compilations running in this process. typst memoizes layout
/// in a global comemo cache that would otherwise keep every exported book's
/// pages alive; books rarely share work, so the last compilation to finish
/// clears it. Clearing while another one runs would only slow that one down.
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);

struct InFlight;

impl InFlight {
    fn enter() -> InFlight {
        IN_FLIGHT.fetch_add(1, Ordering::SeqCst);
        InFlight
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if IN_FLIGHT.fetch_sub(1, Ordering::SeqCst) == 1 {
            typst::comemo::evict(0);
        }
    }
}

fn describe(diags: &[SourceDiagnostic]) -> String {
    diags
        .iter()
        .map(|d| {
            let hints: Vec<&str> = d.hints.iter().map(|h| h.v.as_str()).collect();
            if hints.is_empty() {
                d.message.to_string()
            } else {
                format!("{} (hint: {})", d.message, hints.join("; "))
            }
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile_template(template: &str) -> Result<PagedDocument, ExportError> {
        let date = chrono::NaiveDate::default();
        compile(&world::BookWorld::new(template, b"{}".to_vec(), date)?)
    }

    #[test]
    fn a_missing_font_fails_instead_of_dropping_the_text() {
        let err = compile_template("#set text(font: \"No Such Font\", fallback: false)\nHola")
            .expect_err("unknown font must fail");
        assert!(err.to_string().contains("unknown font family"), "{err}");
    }

    #[test]
    fn the_bundled_serif_is_found() {
        let doc = compile_template("#set text(font: \"Libertinus Serif\")\n¿Año? ¡Sí! «Ñu»")
            .expect("bundled font");
        assert_eq!(doc.pages().len(), 1);
    }
}
