//! The credit a book's exports print on their title and copyright pages.

use diesel::prelude::*;

use crate::db::schema::books;
use crate::db::{now, DbConn, DbError};

/// Already validated by `books::validate_credits`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Credits {
    pub pen_name: String,
    pub dedication: String,
    pub copyright_line: String,
}

/// Saves the credits and bumps the version, so every export renders them at once.
pub fn set_credits(conn: &mut DbConn, id: &str, c: &Credits) -> Result<(), DbError> {
    diesel::update(books::table.find(id))
        .set((
            books::pen_name.eq(&c.pen_name),
            books::dedication.eq(&c.dedication),
            books::copyright_line.eq(&c.copyright_line),
            books::version.eq(books::version + 1),
            books::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}
