//! The architecture between drafting and approval: the author's edits (`save_architecture`). The
//! cost estimate shown before approving is `estimate`.

use buko_actors::model::{Architecture, BookStatus};

use super::{BookError, BookService};
use crate::db::ids::BookId;
use crate::db::models::User;
use crate::db::repo::books::Book;
use crate::db::{self, repo};

impl BookService {
    /// Replaces the architecture while the book is `architecture_ready`. The order of checks is the
    /// same for every door: the book (owner), its status, then the input (`parsed` carries a form's
    /// parse error, so a form for a book that moved on reports the status, not the form).
    pub async fn save_architecture(
        &self,
        user: &User,
        id: &BookId,
        parsed: Result<Architecture, BookError>,
    ) -> Result<(Book, Architecture), BookError> {
        let book = self.get(user, id).await?;
        if book.status() != BookStatus::ArchitectureReady {
            return Err(BookError::WrongStatus {
                action: "edit the architecture of",
                status: book.status(),
            });
        }
        let arch = parsed?;
        let book_id = book.id.clone();
        let saved = db::run(&self.db, move |c| {
            Ok(repo::books::update_architecture(c, &book_id, arch))
        })
        .await??;
        Ok((book, saved))
    }
}
