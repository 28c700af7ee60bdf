//! The author's controls over a book that was approved: pause, resume, cancel, regenerate a chapter.
//! Each is a conditional status transition committed with the job it needs.

use buko_actors::model::BookStatus;
use diesel::prelude::*;

use super::{enqueue, refused, transition, BookChangeError};
use crate::db::repo::jobs::{JobPayload, NewJob};
use crate::db::schema::chapters;
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
pub fn control(conn: &mut DbConn, id: &str, c: Control) -> Result<BookStatus, BookChangeError> {
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
        if !transition(conn, id, from, to, flag)? {
            return Err(refused(conn, id, name));
        }
        if c == Control::Resume {
            enqueue(
                conn,
                NewJob::now(JobPayload::Book {
                    book_id: id.to_string(),
                    regenerate_chapter: None,
                }),
            )?;
        }
        Ok(to)
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
