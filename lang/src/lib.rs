//! The language a book is written in and the UI speaks: one vocabulary for the pages (strings, number
//! formats), the engine (prompts, offline text) and the exports (hyphenation, metadata, labels).
//!
//! Text becomes a [`Language`] here and nowhere else: [`Language::parse`] for a form field, a stored
//! column or a setting, [`Language::from_accept_language`] for the request header. The crate knows no
//! storage and no HTTP, so every other crate of the workspace can depend on it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A supported language. Serialized as its code (`"en"`, `"es"`), the way the architecture JSON, the
/// API and the database hold it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    En,
    Es,
}

impl Language {
    /// Every supported language, in the order the UI lists them.
    pub const ALL: [Language; 2] = [Language::En, Language::Es];

    /// The BCP 47 primary code, as EPUB metadata, typst's `lang`, the `<html lang>` and the database want it.
    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Es => "es",
        }
    }

    /// Reads a language code: surrounding space and case are ignored, and so is a region suffix
    /// (`"es-MX"`, `"en_GB"`). `None` for a language Buko does not write.
    pub fn parse(text: &str) -> Option<Language> {
        let primary = text.trim().split(['-', '_']).next().unwrap_or_default();
        Language::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(primary))
    }

    /// The best supported language of an `Accept-Language` header (by q-value, then order); `None`
    /// when it names none (or only with `q=0`).
    pub fn from_accept_language(header: &str) -> Option<Language> {
        let mut best: Option<(f32, Language)> = None;
        for part in header.split(',') {
            let mut pieces = part.trim().split(';');
            let tag = pieces.next().unwrap_or("").trim();
            let q = pieces
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|v| v.parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            if let Some(language) = Language::parse(tag) {
                if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
                    best = Some((q, language));
                }
            }
        }
        best.map(|(_, l)| l)
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A text [`Language::parse`] does not read as a supported language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownLanguage(pub String);

impl fmt::Display for UnknownLanguage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown language {:?}; use en or es", self.0)
    }
}

impl std::error::Error for UnknownLanguage {}

impl FromStr for Language {
    type Err = UnknownLanguage;

    fn from_str(text: &str) -> Result<Language, UnknownLanguage> {
        Language::parse(text).ok_or_else(|| UnknownLanguage(text.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_ignores_space_case_and_region() {
        for (text, want) in [
            ("en", Some(Language::En)),
            ("es", Some(Language::Es)),
            (" ES ", Some(Language::Es)),
            ("EN", Some(Language::En)),
            ("es-MX", Some(Language::Es)),
            ("en_GB", Some(Language::En)),
            ("fr", None),
            ("", None),
            ("english", None),
            ("-es", None),
        ] {
            assert_eq!(Language::parse(text), want, "{text:?}");
        }
    }

    #[test]
    fn code_display_and_from_str_round_trip() {
        for l in Language::ALL {
            assert_eq!(l.to_string(), l.code());
            assert_eq!(l.code().parse::<Language>(), Ok(l));
            assert_eq!(Language::parse(l.code()), Some(l));
        }
        let err = "fr".parse::<Language>().expect_err("fr is not supported");
        assert_eq!(err, UnknownLanguage("fr".into()));
        assert_eq!(err.to_string(), "unknown language \"fr\"; use en or es");
    }

    #[test]
    fn default_is_english() {
        assert_eq!(Language::default(), Language::En);
    }

    #[test]
    fn serde_uses_the_code() {
        assert_eq!(
            serde_json::to_string(&Language::Es).expect("json"),
            "\"es\""
        );
        assert_eq!(
            serde_json::from_str::<Language>("\"en\"").expect("json"),
            Language::En
        );
        assert!(serde_json::from_str::<Language>("\"En\"").is_err());
    }

    #[test]
    fn accept_language_prefers_highest_q() {
        assert_eq!(
            Language::from_accept_language("es-ES,es;q=0.9,en;q=0.8"),
            Some(Language::Es)
        );
        assert_eq!(
            Language::from_accept_language("fr, en;q=0.5, es;q=0.7"),
            Some(Language::Es)
        );
        assert_eq!(Language::from_accept_language("de"), None);
        assert_eq!(
            Language::from_accept_language("es;q=0, en;q=0.1"),
            Some(Language::En)
        );
        assert_eq!(Language::from_accept_language(""), None);
    }
}
