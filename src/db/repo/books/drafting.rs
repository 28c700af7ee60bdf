//! The job runner's writes on a book outside the engine: the drafted architecture (or why it could not
//! be drafted), and the start of a run. Each write is guarded by the status it expects and commits the
//! status event with it.

use buko_actors::model::{Architecture, BookStatus};
use diesel::prelude::*;

use crate::db::repo::engine::QueryError;
use crate::db::repo::events::{self, EventRow};
use crate::db::schema::books;
use crate::db::{now, write_tx, DbConn, DbError};

/// Stores a drafted architecture and marks the book `architecture_ready` — only while it waits for
/// one; `None` when the book moved on (cancelled while drafting), and then nothing is written.
pub fn store_drafted_architecture(
    conn: &mut DbConn,
    id: &str,
    architecture: &Architecture,
    is_demo: bool,
) -> Result<Option<EventRow>, DbError> {
    write_tx(conn, |c| {
        let json = serde_json::to_string(architecture)
            .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
        let n = diesel::update(
            books::table
                .find(id)
                .filter(books::status.eq(BookStatus::ArchitecturePending.as_str())),
        )
        .set((
            books::architecture.eq(Some(json)),
            books::title.eq(&architecture.title),
            books::status.eq(BookStatus::ArchitectureReady.as_str()),
            books::status_reason.eq(None::<String>),
            books::is_demo.eq(is_demo),
            books::updated_at.eq(now()),
        ))
        .execute(c)?;
        if n == 0 {
            return Ok(None);
        }
        let data =
            serde_json::json!({ "status": BookStatus::ArchitectureReady.as_str(), "reason": null });
        Ok(Some(events::append(c, id, "status", &data)?))
    })
}

/// Marks a book whose architecture cannot be drafted `failed` with the reason (if it still waits for
/// one), and records the status event.
pub fn fail_architecture(conn: &mut DbConn, id: &str, reason: &str) -> Result<EventRow, DbError> {
    write_tx(conn, |c| {
        diesel::update(
            books::table
                .find(id)
                .filter(books::status.eq(BookStatus::ArchitecturePending.as_str())),
        )
        .set((
            books::status.eq(BookStatus::Failed.as_str()),
            books::status_reason.eq(reason),
            books::updated_at.eq(now()),
        ))
        .execute(c)?;
        // The provider failed, not the author: the outline does not count against the quota.
        crate::db::repo::quota::release(c, id, "architecture")?;
        let data = serde_json::json!({ "status": BookStatus::Failed.as_str(), "reason": reason });
        events::append(c, id, "status", &data)
    })
}

/// Whether the author cancelled the book (a job that waited for the provider must not start it).
pub fn is_cancelled(conn: &mut DbConn, id: &str) -> Result<bool, DbError> {
    let status: Option<BookStatus> = books::table
        .find(id)
        .select(books::status)
        .first(conn)
        .optional()?;
    Ok(status == Some(BookStatus::Cancelled))
}

/// Takes the book for a run fenced by `fence`, labelled demo
/// when the offline writer writes it.
pub fn start_run(
    conn: &mut DbConn,
    id: &str,
    fence: buko_actors::Fence,
    is_demo: bool,
) -> Result<(), QueryError> {
    crate::db::repo::engine::take_ownership(conn, id, fence)?;
    // The control flag is left as the author set it: a book paused while it waited in the queue
    // stops before writing anything.
    diesel::update(books::table.find(id))
        .set(books::is_demo.eq(is_demo))
        .execute(conn)?;
    Ok(())
}

/// The author's control flag (`run`, `pause`, `cancel`), read by a runner whose book stopped.
pub fn control_flag(conn: &mut DbConn, id: &str) -> Result<Option<String>, DbError> {
    Ok(books::table
        .find(id)
        .select(books::control)
        .first::<String>(conn)
        .optional()?)
}
