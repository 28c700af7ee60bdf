//! The OpenAPI document against the code: every registered route is in the table and every schema
//! reference resolves.

use super::*;
use std::collections::BTreeSet;

/// `(method, path)` of every route registration in a handler file, with actix's
/// `{name:a|b}` alternatives expanded into one path each.
fn registered(source: &str) -> Vec<(String, String)> {
    let mut out = vec![];
    // Only the handler code: this very test mentions the pattern too.
    let source = source.split("#[cfg(test)]").next().unwrap_or_default();
    for piece in source.split(".route(").skip(1) {
        // rustfmt may break the call after the parenthesis.
        let Some(piece) = piece.trim_start().strip_prefix('"') else {
            continue;
        };
        let Some((path, rest)) = piece.split_once('"') else {
            continue;
        };
        let Some(method) = rest.split("web::").nth(1).and_then(|m| m.split('(').next()) else {
            continue;
        };
        let mut paths = vec![String::new()];
        for seg in path.split('/').filter(|s| !s.is_empty()) {
            let options: Vec<String> = match seg.strip_prefix('{').and_then(|s| s.split_once(':')) {
                Some((_, alts)) => alts
                    .trim_end_matches('}')
                    .split('|')
                    .map(String::from)
                    .collect(),
                None => vec![seg.to_string()],
            };
            paths = paths
                .iter()
                .flat_map(|p| options.iter().map(move |o| format!("{p}/{o}")))
                .collect();
        }
        out.extend(paths.into_iter().map(|p| (method.to_string(), p)));
    }
    out
}

#[test]
fn the_table_lists_exactly_the_registered_routes() {
    let sources = [
        include_str!("books.rs"),
        include_str!("billing.rs"),
        include_str!("audit.rs"),
        include_str!("chapters.rs"),
        include_str!("covers.rs"),
        include_str!("keys.rs"),
        include_str!("usage.rs"),
        include_str!("openapi.rs"),
    ];
    let code: BTreeSet<(String, String)> = sources.iter().flat_map(|s| registered(s)).collect();
    let table: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_string()))
        .collect();
    assert!(code.len() >= 15, "parsed too few routes: {code:?}");
    assert_eq!(
        code, table,
        "openapi::ROUTES and the registered routes differ"
    );
}

#[test]
fn every_reference_resolves() {
    let doc = render();
    let text = doc.to_string();
    for piece in text.split("#/components/schemas/").skip(1) {
        let name = piece.split('"').next().unwrap_or_default();
        assert!(
            doc["components"]["schemas"].get(name).is_some(),
            "missing schema {name}"
        );
    }
    assert_eq!(doc["openapi"], "3.1.0");
}
