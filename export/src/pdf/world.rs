//! The smallest typst `World` that can lay out a book: one fixed main source
//! (the template), one data file (the book as JSON), the fonts embedded by
//! typst-assets, and a "today" pinned to the book's date so output is
//! reproducible. It reads nothing from disk and has no packages.

use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate};
use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};

use crate::ExportError;

/// The book layout; fixed, data comes from `/book.json`.
pub const TEMPLATE: &str = include_str!("book.typ");

/// Fonts are parsed once per process: Libertinus Serif (text, with the full
/// Latin-1 and typographic punctuation set Spanish needs) plus typst's other
/// bundled families as fallbacks.
struct Fonts {
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
}

static FONTS: LazyLock<Fonts> = LazyLock::new(|| {
    let fonts: Vec<Font> = typst_assets::fonts()
        .flat_map(|data| Font::iter(Bytes::new(data)))
        .collect();
    Fonts {
        book: LazyHash::new(FontBook::from_fonts(&fonts)),
        fonts,
    }
});

static LIBRARY: LazyLock<LazyHash<Library>> = LazyLock::new(|| LazyHash::new(Library::default()));

pub struct BookWorld {
    main: Source,
    data_id: FileId,
    data: Bytes,
    cover_id: FileId,
    cover: Option<Bytes>,
    today: Option<Datetime>,
}

fn file_id(path: &str) -> Result<FileId, ExportError> {
    let vpath = VirtualPath::new(path).map_err(|e| ExportError::Pdf(format!("{path}: {e}")))?;
    Ok(FileId::new(RootedPath::new(VirtualRoot::Project, vpath)))
}

pub fn typst_date(date: NaiveDate) -> Option<Datetime> {
    Datetime::from_ymd(
        date.year(),
        u8::try_from(date.month()).ok()?,
        u8::try_from(date.day()).ok()?,
    )
}

impl BookWorld {
    /// A world whose main file is `template` and whose `/book.json` is `data`.
    pub fn new(template: &str, data: Vec<u8>, date: NaiveDate) -> Result<BookWorld, ExportError> {
        Ok(BookWorld {
            main: Source::new(file_id("/main.typ")?, template.to_owned()),
            data_id: file_id("/book.json")?,
            data: Bytes::new(data),
            cover_id: file_id("/cover.jpg")?,
            cover: None,
            today: typst_date(date),
        })
    }

    /// Serves the rendered cover as `/cover.jpg`.
    pub fn with_cover(mut self, jpeg: Option<&[u8]>) -> BookWorld {
        self.cover = jpeg.map(|j| Bytes::new(j.to_vec()));
        self
    }

    fn not_found(id: FileId) -> FileError {
        FileError::NotFound(id.vpath().get_with_slash().into())
    }
}

impl World for BookWorld {
    fn library(&self) -> &LazyHash<Library> {
        &LIBRARY
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &FONTS.book
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else {
            Err(Self::not_found(id))
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.data_id {
            Ok(self.data.clone())
        } else if let (true, Some(cover)) = (id == self.cover_id, &self.cover) {
            Ok(cover.clone())
        } else if id == self.main.id() {
            Ok(Bytes::from_string(self.main.clone()))
        } else {
            Err(Self::not_found(id))
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        FONTS.fonts.get(index).cloned()
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        self.today
    }
}
