//! UI strings in English and Spanish, and how a request's locale is chosen: the user's setting, else the
//! session's choice, else `Accept-Language`, else English.

use serde::Serialize;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub enum Locale {
    #[default]
    En,
    Es,
}

impl Locale {
    pub fn code(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Es => "es",
        }
    }

    pub fn parse(s: &str) -> Option<Locale> {
        match s.trim().to_ascii_lowercase().as_str() {
            "en" => Some(Locale::En),
            "es" => Some(Locale::Es),
            _ => None,
        }
    }

    /// The best supported language of an `Accept-Language` header (by q-value, then order).
    pub fn from_accept_language(header: &str) -> Option<Locale> {
        let mut best: Option<(f32, Locale)> = None;
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
            let primary = tag.split('-').next().unwrap_or("");
            if let Some(loc) = Locale::parse(primary) {
                if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
                    best = Some((q, loc));
                }
            }
        }
        best.map(|(_, l)| l)
    }

    pub fn tr(self) -> Tr {
        Tr(self)
    }
}

/// Translator handed to templates: `{{ t.get("login.title") }}`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tr(pub Locale);

impl Tr {
    pub fn get(&self, key: &str) -> &'static str {
        let (table, extra, studio, covers, limits) = match self.0 {
            Locale::En => (EN, ANALYTICS_EN, STUDIO_EN, COVERS_EN, LIMITS_EN),
            Locale::Es => (ES, ANALYTICS_ES, STUDIO_ES, COVERS_ES, LIMITS_ES),
        };
        lookup(table, key)
            .or_else(|| lookup(extra, key))
            .or_else(|| lookup(studio, key))
            .or_else(|| lookup(covers, key))
            .or_else(|| lookup(limits, key))
            .or_else(|| lookup(EN, key))
            .or_else(|| lookup(ANALYTICS_EN, key))
            .or_else(|| lookup(STUDIO_EN, key))
            .or_else(|| lookup(COVERS_EN, key))
            .or_else(|| lookup(LIMITS_EN, key))
            .unwrap_or("??")
    }

    pub fn locale(&self) -> Locale {
        self.0
    }
}

fn lookup(table: &'static [(&'static str, &'static str)], key: &str) -> Option<&'static str> {
    table.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

include!("i18n_strings.rs");
include!("i18n_analytics.rs");
include!("i18n_strings_studio.rs");
include!("i18n_covers.rs");
include!("i18n_strings_limits.rs");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_have_every_key() {
        for (k, _) in ANALYTICS_EN {
            assert!(lookup(ANALYTICS_ES, k).is_some(), "missing es: {k}");
        }
        for (k, _) in ANALYTICS_ES {
            assert!(lookup(ANALYTICS_EN, k).is_some(), "missing en: {k}");
        }
        for (k, _) in EN {
            assert!(lookup(ES, k).is_some(), "missing es: {k}");
        }
        for (k, _) in ES {
            assert!(lookup(EN, k).is_some(), "missing en: {k}");
        }
        for (k, _) in STUDIO_EN {
            assert!(lookup(STUDIO_ES, k).is_some(), "missing es: {k}");
            assert!(lookup(EN, k).is_none(), "defined twice: {k}");
        }
        for (k, _) in STUDIO_ES {
            assert!(lookup(STUDIO_EN, k).is_some(), "missing en: {k}");
        }
        for (k, _) in COVERS_EN {
            assert!(lookup(COVERS_ES, k).is_some(), "missing es: {k}");
            assert!(lookup(EN, k).is_none(), "defined twice: {k}");
        }
        for (k, _) in COVERS_ES {
            assert!(lookup(COVERS_EN, k).is_some(), "missing en: {k}");
        }
        for (k, _) in LIMITS_EN {
            assert!(lookup(LIMITS_ES, k).is_some(), "missing es: {k}");
            assert!(
                lookup(EN, k).is_none() && lookup(STUDIO_EN, k).is_none(),
                "defined twice: {k}"
            );
        }
        for (k, _) in LIMITS_ES {
            assert!(lookup(LIMITS_EN, k).is_some(), "missing en: {k}");
        }
    }

    #[test]
    fn accept_language_prefers_highest_q() {
        assert_eq!(
            Locale::from_accept_language("es-ES,es;q=0.9,en;q=0.8"),
            Some(Locale::Es)
        );
        assert_eq!(
            Locale::from_accept_language("fr, en;q=0.5, es;q=0.7"),
            Some(Locale::Es)
        );
        assert_eq!(Locale::from_accept_language("de"), None);
    }
}
