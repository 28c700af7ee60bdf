//! The layering rules of `docs/ARCHITECTURE.md`, checked on the source itself:
//! - no two modules of a crate import each other, directly or through others (the module graph of
//!   each library crate — `buko`, `buko-actors`, `buko-export` — is acyclic);
//! - no diesel query code outside `src/db/`.
//!
//! The graph is read from the source: every `crate::…`, `super::…` and `self::…` path (in `use` trees
//! and inline, relative `child::…` paths included) is resolved to the deepest module it names, and
//! gives an edge from the module that wrote it. Three things are not imports: a `mod` declaration, a
//! module naming its own ancestors (the namespace that owns it: `super::Helper`), and `#[cfg(test)]`
//! blocks (test code may reach anywhere). So a cycle through a third module is caught even when it
//! passes through a parent: `a::b → c → a → a::b`. It needs no tool beyond the test itself, so it runs in every
//! `cargo test`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module path below the crate root, e.g. `["web", "books"]`; the root is `[]`.
type ModPath = Vec<String>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The module a file defines (`src/a/mod.rs` and `src/a.rs` → `a`; `src/lib.rs` → root).
fn module_of(root: &Path, file: &Path) -> ModPath {
    let rel = file.strip_prefix(root).expect("file under its crate root");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|s| s.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap_or_default();
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" {
        parts.push(stem.to_string());
    }
    parts
}

/// The source without comments, string literals and `#[cfg(test)]` items.
fn code_of(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let b = src.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            i += 2;
            while i + 1 < b.len() && !b[i..].starts_with(b"*/") {
                i += 1;
            }
            i += 2;
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if b[i..].starts_with(b"r#\"") {
            i += 3;
            while i + 1 < b.len() && !b[i..].starts_with(b"\"#") {
                i += 1;
            }
            i += 2;
            out.push_str("\"\"");
        } else if b[i] == b'\'' && i + 2 < b.len() && (b[i + 2] == b'\'' || b[i + 1] == b'\\') {
            // A char literal ('x' or an escape); lifetimes ('a) are left alone.
            i += 1;
            while i < b.len() && b[i] != b'\'' {
                if b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
        } else {
            let ch = src[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    strip_cfg_test(&out)
}

/// Removes every item that follows `#[cfg(test)]` (up to its matching closing brace or semicolon).
fn strip_cfg_test(code: &str) -> String {
    let mut out = String::new();
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        let mut depth = 0usize;
        let mut end = after.len();
        for (k, ch) in after.char_indices() {
            match ch {
                '{' => depth += 1,
                '}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        end = k + 1;
                        break;
                    }
                }
                ';' if depth == 0 => {
                    end = k + 1;
                    break;
                }
                _ => {}
            }
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Expands a `use` tree (`crate::a::{b, c::{d, e}}`) into its full paths.
fn expand_use(tree: &str) -> Vec<String> {
    let tree: String = tree.split_whitespace().collect::<Vec<_>>().join(" ");
    fn go(prefix: &str, t: &str, out: &mut Vec<String>) {
        match t.find('{') {
            None => out.push(format!("{prefix}{}", t.trim())),
            Some(open) => {
                let head = t[..open].trim();
                let inner = &t[open + 1..t.rfind('}').unwrap_or(t.len())];
                let mut depth = 0;
                let mut start = 0;
                let bytes: Vec<char> = inner.chars().collect();
                let mut parts = Vec::new();
                for (k, ch) in bytes.iter().enumerate() {
                    match ch {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        ',' if depth == 0 => {
                            parts.push(bytes[start..k].iter().collect::<String>());
                            start = k + 1;
                        }
                        _ => {}
                    }
                }
                parts.push(bytes[start..].iter().collect::<String>());
                for p in parts.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
                    go(&format!("{prefix}{head}"), p, out);
                }
            }
        }
    }
    let mut out = Vec::new();
    go("", &tree, &mut out);
    out
}

/// Every path the code names that starts with `crate`, `super` or `self`.
fn paths_in(code: &str) -> Vec<String> {
    let mut paths = Vec::new();
    // `use` trees first (they may hold braces), then inline paths elsewhere.
    let mut rest = String::new();
    let mut s = code;
    loop {
        let found = s
            .match_indices("use ")
            .find(|(k, _)| *k == 0 || !is_ident(s[..*k].chars().next_back().unwrap_or(' ')));
        let Some((k, _)) = found else {
            rest.push_str(s);
            break;
        };
        rest.push_str(&s[..k]);
        let body = &s[k + 4..];
        let end = body.find(';').unwrap_or(body.len());
        for p in expand_use(&body[..end]) {
            let p = p.split(" as ").next().unwrap_or("").trim().to_string();
            paths.push(p);
        }
        s = &body[(end + 1).min(body.len())..];
    }
    let chars: Vec<char> = rest.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let boundary = i == 0 || !is_ident(chars[i - 1]) && chars[i - 1] != ':';
        if boundary {
            for lead in ["crate::", "super::", "self::", ""] {
                let lc: Vec<char> = lead.chars().collect();
                let relative = lc.is_empty() && is_ident(chars[i]) && {
                    let mut j = i;
                    while j < chars.len() && is_ident(chars[j]) {
                        j += 1;
                    }
                    chars[j..].starts_with(&[':', ':'])
                };
                if !lc.is_empty() && chars[i..].starts_with(&lc) || relative {
                    let mut j = i;
                    while j < chars.len() && (is_ident(chars[j]) || chars[j] == ':') {
                        j += 1;
                    }
                    paths.push(chars[i..j].iter().collect());
                    i = j;
                    break;
                }
            }
        }
        i += 1;
    }
    paths
}

/// The deepest known module a path names, seen from `from` (whose file is a `mod.rs`/root or not).
fn resolve(path: &str, from: &ModPath, known: &BTreeSet<ModPath>) -> Option<ModPath> {
    let segs: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
    let mut base: ModPath;
    let mut k = 0;
    match segs.first() {
        Some(&"crate") => {
            base = Vec::new();
            k = 1;
        }
        Some(&"super") | Some(&"self") => {
            base = from.clone();
            while k < segs.len() && (segs[k] == "super" || segs[k] == "self") {
                if segs[k] == "super" {
                    base.pop();
                }
                k += 1;
            }
        }
        // A path relative to the current module: `child::Item` (2018 edition).
        Some(first) if known.contains(&[from.as_slice(), &[(*first).to_string()]].concat()) => {
            base = from.clone();
        }
        _ => return None,
    }
    let mut best = base.clone();
    for s in &segs[k..] {
        let mut next = best.clone();
        next.push((*s).to_string());
        if known.contains(&next) {
            best = next;
        } else {
            break;
        }
    }
    Some(best)
}

fn module_graph(root: &Path) -> BTreeMap<ModPath, BTreeSet<ModPath>> {
    let mut files = Vec::new();
    rust_files(root, &mut files);
    // Binaries are their own crates.
    files.retain(|f| {
        let rel = f.strip_prefix(root).expect("under root");
        !rel.starts_with("bin") && rel != Path::new("main.rs")
    });
    let known: BTreeSet<ModPath> = files.iter().map(|f| module_of(root, f)).collect();
    let mut graph: BTreeMap<ModPath, BTreeSet<ModPath>> = BTreeMap::new();
    for f in &files {
        let from = module_of(root, f);
        let code = code_of(&std::fs::read_to_string(f).expect("readable source"));
        let edges = graph.entry(from.clone()).or_default();
        for p in paths_in(&code) {
            if let Some(to) = resolve(&p, &from, &known) {
                // A module naming its own ancestors (`super::Helper`) uses the namespace that owns
                // it, which is ownership rather than an import; every other reference is an edge,
                // including a parent naming its children (re-exports, route assembly).
                let ancestor = to.len() < from.len() && from.starts_with(&to);
                if to != from && !ancestor {
                    edges.insert(to);
                }
            }
        }
    }
    graph
}

/// The strongly connected components with more than one module (Tarjan).
fn cycles(graph: &BTreeMap<ModPath, BTreeSet<ModPath>>) -> Vec<Vec<String>> {
    struct T<'a> {
        g: &'a BTreeMap<ModPath, BTreeSet<ModPath>>,
        index: BTreeMap<&'a ModPath, usize>,
        low: BTreeMap<&'a ModPath, usize>,
        stack: Vec<&'a ModPath>,
        on: BTreeSet<&'a ModPath>,
        n: usize,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a ModPath) {
        t.index.insert(v, t.n);
        t.low.insert(v, t.n);
        t.n += 1;
        t.stack.push(v);
        t.on.insert(v);
        if let Some(ws) = t.g.get(v) {
            for w in ws {
                let Some((w, _)) = t.g.get_key_value(w) else {
                    continue;
                };
                if !t.index.contains_key(w) {
                    visit(t, w);
                    let lw = t.low[w];
                    let lv = t.low[v];
                    t.low.insert(v, lv.min(lw));
                } else if t.on.contains(w) {
                    let iw = t.index[w];
                    let lv = t.low[v];
                    t.low.insert(v, lv.min(iw));
                }
            }
        }
        if t.low[v] == t.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(w);
                comp.push(w.join("::"));
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                // Name the edges inside the component, so the report says what to cut.
                let inside: BTreeSet<String> = comp.iter().cloned().collect();
                let mut edges = Vec::new();
                for a in &comp {
                    let key: ModPath = a.split("::").map(str::to_string).collect();
                    for b in t.g.get(&key).into_iter().flatten() {
                        if inside.contains(&b.join("::")) {
                            edges.push(format!("{a} → {}", b.join("::")));
                        }
                    }
                }
                comp.push(format!("[{}]", edges.join(", ")));
                t.out.push(comp);
            }
        }
    }
    let mut t = T {
        g: graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        n: 0,
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !t.index.contains_key(v) {
            visit(&mut t, v);
        }
    }
    t.out
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn module_graphs_are_acyclic() {
    let mut report = String::new();
    for krate in ["src", "actors/src", "export/src"] {
        let graph = module_graph(&workspace().join(krate));
        assert!(graph.len() > 3, "read the modules of {krate}");
        for comp in cycles(&graph) {
            report.push_str(&format!("{krate}: {}\n", comp.join(" ↔ ")));
        }
    }
    assert!(
        report.is_empty(),
        "modules that import each other:\n{report}"
    );
}

#[test]
fn no_diesel_query_code_outside_db() {
    let root = workspace().join("src");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut offenders = Vec::new();
    for f in files {
        let rel = f.strip_prefix(&root).expect("under src");
        if rel.starts_with("db") {
            continue;
        }
        let code = code_of(&std::fs::read_to_string(&f).expect("readable source"));
        for needle in [
            "diesel::prelude",
            "RunQueryDsl",
            "QueryDsl",
            "ExpressionMethods",
            "schema::",
            "sql_query",
            "diesel::insert_into",
            "diesel::update(",
            "diesel::delete(",
            "diesel::select(",
            "sql::<",
        ] {
            if code.contains(needle) {
                offenders.push(format!("src/{} ({needle})", rel.display()));
                break;
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "diesel query code outside src/db/:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn the_checker_sees_a_cycle_and_a_use_tree() {
    let mut g: BTreeMap<ModPath, BTreeSet<ModPath>> = BTreeMap::new();
    let a = vec!["a".to_string()];
    let b = vec!["b".to_string()];
    g.entry(a.clone()).or_default().insert(b.clone());
    g.entry(b.clone()).or_default().insert(a.clone());
    assert_eq!(cycles(&g)[0][..2], ["a".to_string(), "b".to_string()]);
    let paths = expand_use("crate::{a::{b, c}, d as e}");
    assert_eq!(paths, vec!["crate::a::b", "crate::a::c", "crate::d as e"]);
    assert_eq!(
        paths_in("use crate::{a::b, d as e};"),
        vec!["crate::a::b", "crate::d"]
    );
    let code = code_of("// use crate::x;\nlet s = \"crate::y\";\n#[cfg(test)]\nmod tests { use crate::z; }\nfn f() { crate::w::g() }");
    assert_eq!(paths_in(&code), vec!["crate::w::g"]);
}
