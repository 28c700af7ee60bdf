//! The author's credit on the exports: the account's display name (settings) and, per book, a pen
//! name, a dedication and a copyright line. Both doors (settings page, reader's credits form) call here.

use super::{BookError, BookService, Problem};
use crate::db::ids::BookId;
use crate::db::models::User;
use crate::db::repo::books::Credits;
use crate::db::{self, repo};

pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_CREDIT_CHARS: usize = 300;

fn line(field: &'static str, v: &str, max: usize) -> Result<String, BookError> {
    let v = v.split_whitespace().collect::<Vec<_>>().join(" ");
    if v.chars().count() > max {
        return Err(BookError::problem(
            field,
            Problem::TooLong { max },
            format!("keep it under {max} characters"),
        ));
    }
    Ok(v)
}

/// A display name: one line, at most [`MAX_NAME_CHARS`] characters (empty is allowed).
pub fn validate_display_name(v: &str) -> Result<String, BookError> {
    line("display_name", v, MAX_NAME_CHARS)
}

pub fn validate_credits(c: &Credits) -> Result<Credits, BookError> {
    Ok(Credits {
        pen_name: line("pen_name", &c.pen_name, MAX_NAME_CHARS)?,
        dedication: line("dedication", &c.dedication, MAX_CREDIT_CHARS)?,
        copyright_line: line("copyright_line", &c.copyright_line, MAX_CREDIT_CHARS)?,
    })
}

impl BookService {
    /// Sets the book's credits (owner or admin); exports render them from the next download on.
    pub async fn set_credits(
        &self,
        user: &User,
        id: &BookId,
        c: &Credits,
    ) -> Result<(), BookError> {
        let book = self.get(user, id).await?;
        let c = validate_credits(c)?;
        Ok(db::run(&self.db, move |conn| {
            repo::books::set_credits(conn, &book.id, &c)
        })
        .await?)
    }
}
