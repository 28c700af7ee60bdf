//! Downloading a book in one of the export formats (pages, API; `buko generate` renders the same
//! document straight to its output file).

use buko_export::Format;

use super::{BookError, BookService};
use crate::db::ids::BookId;
use crate::db::models::User;
use crate::db::{self, repo};

/// A rendered file ready to send.
pub struct Export {
    pub bytes: Vec<u8>,
    pub file_name: String,
    pub content_type: &'static str,
}

impl BookService {
    /// The book rendered as `ext` (`pdf`, `epub`, `docx`, `md`); an unknown format is `NotFound`, a
    /// book with no written chapter yet cannot be exported.
    pub async fn export(&self, user: &User, id: &BookId, ext: &str) -> Result<Export, BookError> {
        let book = self.get(user, id).await?;
        let format = Format::from_ext(ext).ok_or(BookError::NotFound)?;
        let book_id = book.id.clone();
        let stored = db::run(&self.db, move |c| repo::exports::load(c, &book_id)).await?;
        let (doc, version) = crate::export::book_doc(stored);
        if doc.chapters.is_empty() {
            return Err(BookError::WrongStatus {
                action: "export",
                status: book.status(),
            });
        }
        let file_name = buko_export::file_name(&doc.title, format);
        // The cover opens every format but Markdown; its version is part of the cache key, so a new
        // cover renders the exports again.
        let cover = match format {
            Format::Markdown => None,
            _ => Some(self.cover_image(user, id, false).await?),
        };
        let bytes = crate::export::render_cached(doc, format, &self.data_dir, version, cover)
            .await
            .map_err(BookError::Render)?;
        Ok(Export {
            bytes,
            file_name,
            content_type: format.content_type(),
        })
    }
}
