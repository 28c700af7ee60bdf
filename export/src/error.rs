//! The one error type of the export boundary. Policy: every variant carries
//! enough text for the log (which renderer, which library message); the web
//! crate maps all of them to a 500 without showing that text to the user,
//! except `NoChapters`, which is the caller's mistake (a 409/422).

/// Why a book could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The book has no chapters: there is nothing to export yet.
    #[error("the book has no chapters")]
    NoChapters,
    /// epub-builder refused the content or failed to zip it.
    #[error("EPUB rendering failed: {0}")]
    Epub(String),
    /// docx-rs failed to pack the document.
    #[error("DOCX rendering failed: {0}")]
    Docx(String),
    /// typst reported errors, or warnings (a missing font only warns and
    /// would silently give a PDF without text, so every warning fails).
    #[error("PDF rendering failed: {0}")]
    Pdf(String),
}
