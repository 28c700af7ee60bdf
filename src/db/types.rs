//! Domain values stored as TEXT, read and written through diesel on both backends.
//!
//! The book status is the engine's `BookStatus` (one vocabulary for engine, API and storage); the
//! engine knows no diesel, so its conversions live here, against the `MultiBackend` of [`DbConn`]
//! (the only backend book rows are read through). A stored text that is not a known status is a
//! deserialization error ([`UnknownStatus`]) the repositories report as `DbError`, never a panic and
//! never a silent default. Chapter statuses are Buko's own ([`ChapterStatus`]), so they carry the full
//! set of impls (`AsExpression`, `FromSqlRow`, and `ToSql` / `FromSql` for SQLite, PostgreSQL and the
//! multi-backend).
//!
//! A book's language (`books.language`) is the shared `buko_lang::Language`, read and written here the
//! same way as the book status. Unlike a status, a stored text that is no language reads as the default
//! (English, logged): that is what every reader of the column did before it was typed, and a book must
//! stay readable and exportable whatever wrote its row.
//!
//! [`DbConn`]: super::DbConn

use buko_actors::BookStatus;
use buko_lang::Language;
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow, Queryable};
use diesel::expression::AsExpression;
use diesel::pg::Pg;
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;
use diesel::sqlite::Sqlite;
use serde::{Deserialize, Serialize};

use super::MultiBackend;

/// A status column held a text no status has: the row was written by something else.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} status {text:?} in the database")]
pub struct UnknownStatus {
    pub kind: &'static str,
    pub text: String,
}

/// Parses a stored book status.
pub fn book_status(text: &str) -> Result<BookStatus, UnknownStatus> {
    BookStatus::parse(text).ok_or_else(|| UnknownStatus {
        kind: "book",
        text: text.to_string(),
    })
}

impl FromSql<Text, MultiBackend> for BookStatus {
    fn from_sql(bytes: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        let text = <String as FromSql<Text, MultiBackend>>::from_sql(bytes)?;
        Ok(book_status(&text)?)
    }
}

impl ToSql<Text, MultiBackend> for BookStatus {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        <str as ToSql<Text, MultiBackend>>::to_sql(self.as_str(), out)
    }
}

impl Queryable<Text, MultiBackend> for BookStatus {
    type Row = BookStatus;

    fn build(row: BookStatus) -> deserialize::Result<Self> {
        Ok(row)
    }
}

/// Reads a stored book language: its code, else (a text no language has) English.
fn book_language(text: &str) -> Language {
    Language::parse(text).unwrap_or_else(|| {
        log::warn!("unknown book language {text:?} in the database; read as English");
        Language::default()
    })
}

impl FromSql<Text, MultiBackend> for Language {
    fn from_sql(bytes: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        let text = <String as FromSql<Text, MultiBackend>>::from_sql(bytes)?;
        Ok(book_language(&text))
    }
}

impl ToSql<Text, MultiBackend> for Language {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        <str as ToSql<Text, MultiBackend>>::to_sql(self.code(), out)
    }
}

impl Queryable<Text, MultiBackend> for Language {
    type Row = Language;

    fn build(row: Language) -> deserialize::Result<Self> {
        Ok(row)
    }
}

/// Where a chapter is in the writing (`chapters.status`).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, AsExpression, FromSqlRow,
)]
#[diesel(sql_type = Text)]
#[serde(rename_all = "snake_case")]
pub enum ChapterStatus {
    /// Not started yet (or rewinding for a regeneration).
    Pending,
    Writing,
    Done,
}

impl ChapterStatus {
    pub const ALL: [ChapterStatus; 3] = [
        ChapterStatus::Pending,
        ChapterStatus::Writing,
        ChapterStatus::Done,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChapterStatus::Pending => "pending",
            ChapterStatus::Writing => "writing",
            ChapterStatus::Done => "done",
        }
    }

    pub fn parse(text: &str) -> Result<ChapterStatus, UnknownStatus> {
        ChapterStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| UnknownStatus {
                kind: "chapter",
                text: text.to_string(),
            })
    }
}

impl std::fmt::Display for ChapterStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for ChapterStatus {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for ChapterStatus {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

macro_rules! text_enum_sql {
    ($ty:ty, $($backend:ty),+) => {$(
        impl FromSql<Text, $backend> for $ty {
            fn from_sql(bytes: <$backend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                let text = <String as FromSql<Text, $backend>>::from_sql(bytes)?;
                Ok(<$ty>::parse(&text)?)
            }
        }

        impl ToSql<Text, $backend> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, $backend>) -> serialize::Result {
                <str as ToSql<Text, $backend>>::to_sql(self.as_str(), out)
            }
        }
    )+};
}

text_enum_sql!(ChapterStatus, Sqlite, Pg, MultiBackend);

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;

    use super::*;
    use crate::db::DbConn;

    fn conn() -> DbConn {
        let mut c = DbConn::Sqlite(
            diesel::SqliteConnection::establish(":memory:").expect("in-memory SQLite"),
        );
        c.batch_execute("CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT NOT NULL)")
            .expect("table");
        c
    }

    diesel::table! {
        t (id) {
            id -> Integer,
            s -> Text,
        }
    }

    #[test]
    fn statuses_round_trip_as_their_api_text() {
        let mut c = conn();
        for (i, s) in ChapterStatus::ALL.into_iter().enumerate() {
            diesel::insert_into(t::table)
                .values((t::id.eq(i as i32), t::s.eq(s)))
                .execute(&mut c)
                .expect("insert");
            let text: String = t::table
                .find(i as i32)
                .select(t::s)
                .first(&mut c)
                .expect("text");
            assert_eq!(text, s.as_str());
            let back: ChapterStatus = t::table
                .find(i as i32)
                .select(t::s)
                .first(&mut c)
                .expect("typed");
            assert_eq!(back, s);
            assert_eq!(serde_json::to_value(s).expect("json"), s.as_str());
        }
        for (i, s) in BookStatus::ALL.into_iter().enumerate() {
            let id = 100 + i as i32;
            diesel::insert_into(t::table)
                .values((t::id.eq(id), t::s.eq(s.as_str())))
                .execute(&mut c)
                .expect("insert");
            let back: BookStatus = t::table.find(id).select(t::s).first(&mut c).expect("typed");
            assert_eq!(back, s);
        }
    }

    #[test]
    fn unknown_stored_text_is_an_error_not_a_default() {
        let mut c = conn();
        c.batch_execute("INSERT INTO t VALUES (1, 'exploded')")
            .expect("row");
        let book = t::table.find(1).select(t::s).first::<BookStatus>(&mut c);
        let chapter = t::table.find(1).select(t::s).first::<ChapterStatus>(&mut c);
        for e in [book.err(), chapter.err()] {
            match e {
                Some(diesel::result::Error::DeserializationError(e)) => {
                    let chain = format!("{e:?}");
                    assert!(chain.contains("exploded"), "{chain}")
                }
                other => panic!("expected a deserialization error, got {other:?}"),
            }
        }
    }

    #[test]
    fn languages_are_stored_as_their_code_and_unknown_text_reads_as_english() {
        let mut c = conn();
        for (i, l) in Language::ALL.into_iter().enumerate() {
            let id = i as i32;
            diesel::insert_into(t::table)
                .values((t::id.eq(id), t::s.eq(l.code())))
                .execute(&mut c)
                .expect("insert");
            let back: Language = t::table.find(id).select(t::s).first(&mut c).expect("typed");
            assert_eq!(back, l);
        }
        c.batch_execute("INSERT INTO t VALUES (10, 'es-MX'), (11, 'klingon'), (12, '')")
            .expect("rows");
        for (id, want) in [(10, Language::Es), (11, Language::En), (12, Language::En)] {
            let back: Language = t::table.find(id).select(t::s).first(&mut c).expect("typed");
            assert_eq!(back, want, "row {id}");
        }
    }
}
