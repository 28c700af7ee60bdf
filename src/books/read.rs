//! Reading a book as it is written: its chapters with their text, committed chunks after a sequence
//! number (the live view's gap filling), and its events (the API's replay; WebSocket replay reads the
//! same rows).

use buko_actors::BookEvent;

use super::{BookError, BookService};
use crate::db::ids::BookId;
use crate::db::models::User;
use crate::db::repo::chapters::{ChapterText, CommittedChunk};
use crate::db::{self, repo};

/// Most events one call returns.
pub const EVENTS_PAGE: i64 = 1000;

impl BookService {
    pub async fn chapters(&self, user: &User, id: &BookId) -> Result<Vec<ChapterText>, BookError> {
        let book = self.get(user, id).await?;
        Ok(db::run(&self.db, move |c| {
            repo::chapters::list_with_text(c, &book.id)
        })
        .await?)
    }

    /// Committed chunks with `seq > after`, at most `limit`.
    pub async fn chunks_after(
        &self,
        user: &User,
        id: &BookId,
        after: i64,
        limit: i64,
    ) -> Result<Vec<CommittedChunk>, BookError> {
        let book = self.get(user, id).await?;
        Ok(db::run(&self.db, move |c| {
            repo::chapters::chunks_after(c, &book.id, after, limit)
        })
        .await?)
    }

    /// The book's events with `seq > after`, oldest first (at most [`EVENTS_PAGE`]).
    pub async fn events(
        &self,
        user: &User,
        id: &BookId,
        after: i64,
    ) -> Result<Vec<BookEvent>, BookError> {
        let book = self.get(user, id).await?;
        let rows = db::run(&self.db, move |c| {
            repo::events::list_after(c, &book.id, after, EVENTS_PAGE)
        })
        .await?;
        Ok(rows.iter().map(|r| r.to_book_event()).collect())
    }
}
