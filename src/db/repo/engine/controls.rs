//! The author's flag as the engine reads it: one book's between chunks, and every running book's at
//! once for the node's control watch.

use buko_actors::Control;
use diesel::prelude::*;

use super::QueryError;
use crate::db::schema::books;
use crate::db::DbConn;

pub fn control(conn: &mut DbConn, book_id: &str) -> Result<Control, QueryError> {
    let control: String = books::table
        .find(book_id)
        .select(books::control)
        .first(conn)
        .optional()?
        .ok_or_else(|| QueryError::NotFound(book_id.into()))?;
    Ok(parse_control(&control))
}

/// The books among `book_ids` whose author asked to pause or cancel: one query per 500 books (the
/// node's control watch reads every book it runs at once).
pub fn controls(
    conn: &mut DbConn,
    book_ids: &[String],
) -> Result<Vec<(String, Control)>, QueryError> {
    let mut stopped = Vec::new();
    for part in book_ids.chunks(500) {
        let rows: Vec<(String, String)> = books::table
            .filter(books::id.eq_any(part))
            .filter(books::control.ne("run"))
            .select((books::id, books::control))
            .load(conn)?;
        stopped.extend(rows.into_iter().map(|(id, c)| (id, parse_control(&c))));
    }
    Ok(stopped)
}

fn parse_control(control: &str) -> Control {
    match control {
        "pause" => Control::Pause,
        "cancel" => Control::Cancel,
        _ => Control::Run,
    }
}
