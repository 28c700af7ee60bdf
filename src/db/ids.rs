//! Typed ids: a book's id and a user's id are both UUID text, and these keep one from being passed
//! where the other belongs. Stored as TEXT on both backends, serialized as the bare string (JSON is
//! unchanged), and they read as `&str` (`Deref`, `AsRef`, `Display`), so code that only needs the
//! text keeps working. [`BookId::parse`] checks the shape at an edge that has not been checked yet
//! (the request boundary already answers 404 for a path `{id}` that is not a UUID).

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::Pg;
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;
use diesel::sqlite::Sqlite;
use serde::{Deserialize, Serialize};

use super::MultiBackend;

/// Text that is not an id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an id")]
pub struct InvalidId(pub String);

macro_rules! text_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
            AsExpression, FromSqlRow,
        )]
        #[diesel(sql_type = Text)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// A fresh random id (UUID v4).
            pub fn generate() -> $name {
                $name(uuid::Uuid::new_v4().to_string())
            }

            /// Accepts a UUID in its hyphenated form only, as ids are written.
            pub fn parse(text: &str) -> Result<$name, InvalidId> {
                match uuid::Uuid::try_parse(text) {
                    Ok(u) if u.hyphenated().to_string() == text.to_ascii_lowercase() => {
                        Ok($name(text.to_string()))
                    }
                    _ => Err(InvalidId(text.to_string())),
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> $name {
                $name(s)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> $name {
                $name(s.to_string())
            }
        }

        impl From<&String> for $name {
            fn from(s: &String) -> $name {
                $name(s.clone())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl PartialEq<$name> for &str {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        text_id!(@sql $name, Sqlite, Pg, MultiBackend);
    };
    (@sql $name:ident, $($backend:ty),+) => {$(
        impl FromSql<Text, $backend> for $name {
            fn from_sql(bytes: <$backend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                <String as FromSql<Text, $backend>>::from_sql(bytes).map($name)
            }
        }

        impl ToSql<Text, $backend> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, $backend>) -> serialize::Result {
                <str as ToSql<Text, $backend>>::to_sql(&self.0, out)
            }
        }
    )+};
}

text_id!(
    /// The id of a book (`books.id`).
    BookId
);
text_id!(
    /// The id of a user (`users.id`).
    UserId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_uuids_only_and_serialize_as_plain_strings() {
        let id = BookId::generate();
        assert_eq!(BookId::parse(id.as_str()), Ok(id.clone()));
        assert_eq!(
            serde_json::to_string(&id).expect("json"),
            format!("\"{id}\"")
        );
        let back: BookId = serde_json::from_str(&format!("\"{id}\"")).expect("from json");
        assert_eq!(back, id);
        for bad in ["", "book-1", "123e4567e89b12d3a456426614174000", "../etc"] {
            assert_eq!(BookId::parse(bad), Err(InvalidId(bad.into())), "{bad}");
        }
        let user = UserId::from("u-1");
        assert!(user == "u-1" && user.len() == 3);
    }
}
