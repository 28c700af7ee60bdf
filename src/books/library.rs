//! The library's use cases: search the author's books by title, delete a book (stopping it first if
//! it is being written, then its rows, jobs and rendered exports), duplicate a book's architecture
//! into a new draft, and the download list (format and size of each export already rendered).

use std::path::Path;

use buko_export::Format;

use super::{BookError, BookService, Stop};
use crate::db::ids::BookId;
use crate::db::models::User;
use crate::db::repo::books::Book;
use crate::db::{self, repo};

/// One download offered for a book.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Download {
    /// `pdf`, `epub`, `docx` or `md` (the URL's last segment).
    pub ext: &'static str,
    /// Shown on the button: `PDF`, `EPUB`, `DOCX`, `Markdown`.
    pub label: &'static str,
    /// Bytes of the file, once this version of the book has been rendered in this format.
    pub bytes: Option<u64>,
}

impl Download {
    /// "24 KB", "1.2 MB" (empty until rendered).
    pub fn size(&self) -> String {
        match self.bytes {
            None => String::new(),
            Some(b) if b < 1024 => format!("{b} B"),
            Some(b) if b < 1024 * 1024 => format!("{} KB", b.div_ceil(1024)),
            Some(b) => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
        }
    }
}

const FORMATS: [(Format, &str); 4] = [
    (Format::Pdf, "PDF"),
    (Format::Epub, "EPUB"),
    (Format::Docx, "DOCX"),
    (Format::Markdown, "Markdown"),
];

/// Longest search string taken (longer input is cut, not refused: it is a filter).
pub const MAX_QUERY_CHARS: usize = 200;

impl BookService {
    /// The user's books whose title contains `q` (all of them for an empty `q`).
    pub async fn search(&self, user: &User, q: &str) -> Result<Vec<Book>, BookError> {
        let q: String = q.trim().chars().take(MAX_QUERY_CHARS).collect();
        if q.is_empty() {
            return self.list(user).await;
        }
        let uid = user.id.clone();
        Ok(db::run(&self.db, move |c| repo::books::search_for_user(c, &uid, &q)).await?)
    }

    /// Deletes the book with its chapters, events, jobs and rendered exports. A book being written
    /// is stopped first (its run can no longer write anything once the row is gone).
    pub async fn delete(&self, user: &User, id: &BookId) -> Result<(), BookError> {
        let book = self.get(user, id).await?;
        let book_id = book.id.clone();
        let existed = db::run(&self.db, move |c| repo::books::delete(c, &book_id)).await?;
        if !existed {
            return Err(BookError::NotFound);
        }
        if !book.status().is_terminal() {
            if let Some(signal) = &self.signal {
                signal.stop(&book.id, Stop::Cancel).await;
            }
        }
        let dir = self.data_dir.join("exports").join(book.id.as_str());
        if let Err(e) = actix_web::web::block(move || remove_dir(&dir)).await {
            log::warn!(target: "buko::books", "exports of a deleted book not removed: {e}");
        }
        Ok(())
    }

    /// A new book with this one's architecture, ready to review and approve (status
    /// `architecture_ready`; costs no quota: nothing is asked of the model). `title` names the copy.
    pub async fn duplicate(
        &self,
        user: &User,
        id: &BookId,
        title: &str,
    ) -> Result<Book, BookError> {
        let book = self.get(user, id).await?;
        if book.architecture().is_none() {
            return Err(BookError::WrongStatus {
                action: "duplicate",
                status: book.status(),
            });
        }
        let title: String = title.trim().chars().take(300).collect();
        let title = if title.is_empty() {
            book.display_title().to_string()
        } else {
            title
        };
        Ok(db::run(&self.db, move |c| repo::books::duplicate(c, &book, &title)).await?)
    }

    /// The downloads of a book with written text (empty otherwise), with the size of each format
    /// already rendered for the book's current version.
    pub async fn downloads(&self, book: &Book) -> Result<Vec<Download>, BookError> {
        if book.words <= 0 {
            return Ok(Vec::new());
        }
        self.downloads_or_formats(book).await
    }

    /// Every format with its size when rendered, even before the book has text (the live page
    /// renders them hidden and shows them when the book completes).
    pub async fn downloads_or_formats(&self, book: &Book) -> Result<Vec<Download>, BookError> {
        let book_id = book.id.clone();
        let (version, cover) = db::run(&self.db, move |c| {
            let cover = repo::covers::find(c, &book_id)?.map_or(0, |r| r.version);
            Ok::<_, db::DbError>((repo::books::version(c, &book_id)?, cover))
        })
        .await?;
        Ok(FORMATS
            .iter()
            .map(|(format, label)| Download {
                ext: format.extension(),
                label,
                bytes: std::fs::metadata(crate::export::cached_path(
                    &self.data_dir,
                    &book.id,
                    version,
                    cover,
                    *format,
                ))
                .ok()
                .map(|m| m.len()),
            })
            .collect())
    }
}

fn remove_dir(dir: &Path) -> std::io::Result<()> {
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        r => r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_a_file_manager() {
        let d = |bytes| Download {
            ext: "pdf",
            label: "PDF",
            bytes,
        };
        assert_eq!(d(None).size(), "");
        assert_eq!(d(Some(900)).size(), "900 B");
        assert_eq!(d(Some(24 * 1024 + 1)).size(), "25 KB");
        assert_eq!(d(Some(3 * 1024 * 1024 / 2)).size(), "1.5 MB");
    }
}
