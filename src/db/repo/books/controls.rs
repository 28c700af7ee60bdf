//! The author's controls over a book that was approved: pause, resume, cancel, regenerate a chapter.
//! Each is a conditional status transition committed with the job it needs.

use buko_actors::model::BookStatus;
use diesel::prelude::*;

use super::{enqueue, refused, transition, BookChangeError};
use crate::db::repo::events::{self, EventRow};
use crate::db::repo::jobs::{JobPayload, NewJob};
use crate::db::schema::{books, chapters};
use crate::db::DbConn;

/// The author's controls over a book in progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    Pause,
    Resume,
    Cancel,
}

impl Control {
    pub fn parse(s: &str) -> Option<Control> {
        match s {
            "pause" => Some(Control::Pause),
            "resume" => Some(Control::Resume),
            "cancel" => Some(Control::Cancel),
            _ => None,
        }
    }
}

/// Applies a control. Pause: queued/generating → paused. Resume: paused/failed → queued with a new Book
/// job (an already active job simply continues, reading `control = run`). Cancel: anything not finished.
///
/// Returns the new status and the `status` event written with it. A book that was `generating` gets
/// no event here: its stream is still running, and the engine records the status when the stop has
/// taken effect (so no tab reads "paused" while text still arrives).
pub fn control(
    conn: &mut DbConn,
    id: &str,
    c: Control,
) -> Result<(BookStatus, Option<EventRow>), BookChangeError> {
    use BookStatus::*;
    crate::db::write_tx(conn, |conn| {
        let (from, to, flag, name): (&[BookStatus], _, _, _) = match c {
            Control::Pause => (&[Queued, Generating], Paused, "pause", "pause"),
            Control::Resume => (&[Paused, Failed], Queued, "run", "resume"),
            Control::Cancel => (
                &[
                    Draft,
                    ArchitecturePending,
                    ArchitectureReady,
                    Queued,
                    Generating,
                    Paused,
                ],
                Cancelled,
                "cancel",
                "cancel",
            ),
        };
        let before: Option<String> = books::table
            .find(id)
            .select(books::status)
            .first(conn)
            .optional()?;
        if !transition(conn, id, from, to, flag)? {
            return Err(refused(conn, id, name));
        }
        let event = if before.as_deref() == Some(Generating.as_str()) && c != Control::Resume {
            None
        } else {
            let data = serde_json::json!({ "status": to.as_str(), "reason": null });
            Some(events::append(conn, id, "status", &data)?)
        };
        if c == Control::Resume {
            enqueue(
                conn,
                NewJob::now(JobPayload::Book {
                    book_id: id.to_string(),
                    regenerate_chapter: None,
                }),
            )?;
        }
        Ok((to, event))
    })
}

/// Rewrites chapter `n` (0-based) of a completed, paused or failed book.
pub fn regenerate_chapter(conn: &mut DbConn, id: &str, n: usize) -> Result<(), BookChangeError> {
    use BookStatus::*;
    crate::db::write_tx(conn, |conn| {
        // Status first (a book without chapters yet is in the wrong status, not given a bad number);
        // a refusal below rolls the transition back.
        if !transition(conn, id, &[Completed, Paused, Failed], Queued, "run")? {
            return Err(refused(conn, id, "regenerate a chapter of"));
        }
        let count: i64 = chapters::table
            .filter(chapters::book_id.eq(id))
            .count()
            .get_result(conn)?;
        if n as i64 >= count {
            return Err(BookChangeError::Invalid {
                field: "chapter",
                reason: format!("the book has no chapter {n} (it has {count})"),
            });
        }
        enqueue(
            conn,
            NewJob::now(JobPayload::Book {
                book_id: id.to_string(),
                regenerate_chapter: Some(n),
            }),
        )?;
        Ok(())
    })
}
