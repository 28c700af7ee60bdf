//! UI strings in English and Spanish, looked up for a `buko_lang::Language` (the one language type of
//! the pages, the engine and the exports). A request's language is chosen in `web::session`: the user's
//! setting, else the session's choice, else `Accept-Language`, else English.

use buko_lang::Language;

/// Translator handed to templates: `{{ t.get("login.title") }}`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tr(pub Language);

impl Tr {
    pub fn get(&self, key: &str) -> &'static str {
        let (table, extra, studio, covers, limits) = match self.0 {
            Language::En => (EN, ANALYTICS_EN, STUDIO_EN, COVERS_EN, LIMITS_EN),
            Language::Es => (ES, ANALYTICS_ES, STUDIO_ES, COVERS_ES, LIMITS_ES),
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

    pub fn locale(&self) -> Language {
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
}
