//! Buko's book exports: one parsed model of a finished book rendered to
//! Markdown, PDF (typst), EPUB 3 and DOCX. Pure and synchronous: no I/O, no
//! database, no async; rendering is CPU-bound, so async callers should run
//! `render` on a blocking pool.
//!
//! ```no_run
//! use buko_export::{render, file_name, BookDoc, ChapterDoc, Format, Language};
//! let doc = BookDoc {
//!     id: "6f1c2b9e-8d4a-4c1e-9a57-0d3f4b2a1c11".into(),
//!     title: "El faro".into(),
//!     subtitle: String::new(),
//!     author: "Ana Pérez".into(),
//!     language: Language::Es,
//!     synopsis: "Una historia breve.".into(),
//!     dedication: String::new(),
//!     copyright: String::new(),
//!     is_demo: false,
//!     date: chrono::NaiveDate::from_ymd_opt(2026, 11, 22).expect("valid date"),
//!     chapters: vec![ChapterDoc { title: "Uno".into(), text: "Érase una vez…".into() }],
//! };
//! let pdf: Vec<u8> = render(&doc, Format::Pdf)?;
//! let name = file_name(&doc.title, Format::Pdf); // "el-faro.pdf"
//! # Ok::<(), buko_export::ExportError>(())
//! ```

pub mod cover;
mod docx;
mod docx_package;
mod epub;
mod epub_cover;
mod error;
mod format;
mod inline;
mod labels;
mod markdown;
pub mod model;
mod parse;
mod pdf;
mod text;

pub use error::ExportError;
pub use format::{file_name, Format};
pub use inline::parse_inline;
pub use model::{Book, BookDoc, ChapterDoc, Language};

/// Pays the PDF engine's one-time start-up (font parsing, hyphenation and
/// line-breaking data) by rendering a tiny book, so the first real export
/// after the server starts does not carry it. Call it once on a blocking
/// thread at start-up; optional.
pub fn warm_up() -> Result<(), ExportError> {
    let doc = BookDoc {
        id: "warm-up".into(),
        title: "Calentamiento".into(),
        subtitle: String::new(),
        author: "Buko".into(),
        language: Language::Es,
        synopsis: String::new(),
        dedication: String::new(),
        copyright: String::new(),
        is_demo: true,
        date: chrono::NaiveDate::default(),
        chapters: vec![ChapterDoc {
            title: "Uno".into(),
            text: "¿Qué tal? ¡Muy *bien*, gracias! «Sí» — “no”.\n\n* * *\n\nFin.".into(),
        }],
    };
    render(&doc, Format::Pdf).map(drop)
}

/// Renders a book to one format, returning the file's bytes.
pub fn render(doc: &BookDoc, format: Format) -> Result<Vec<u8>, ExportError> {
    render_book(&Book::parse(doc), format)
}

/// As [`render`], opening with the book's rendered cover (a JPEG from [`cover::render`]): the EPUB's
/// cover image and cover page, the PDF's first page (full-bleed) and the DOCX's first page.
pub fn render_with_cover(
    doc: &BookDoc,
    format: Format,
    cover_jpeg: Option<&[u8]>,
) -> Result<Vec<u8>, ExportError> {
    let mut book = Book::parse(doc);
    book.cover_jpeg = cover_jpeg.map(<[u8]>::to_vec);
    render_book(&book, format)
}

/// Renders an already parsed book: lets a caller that exports several formats
/// parse the chapters once.
pub fn render_book(book: &Book, format: Format) -> Result<Vec<u8>, ExportError> {
    if book.chapters.is_empty() {
        return Err(ExportError::NoChapters);
    }
    match format {
        Format::Markdown => Ok(markdown::render(book).into_bytes()),
        Format::Epub => epub::render(book),
        Format::Docx => docx::render(book),
        Format::Pdf => pdf::render(book),
    }
}
