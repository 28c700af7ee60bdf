//! The one check every redirect target taken from a request passes (`next` after login, the language
//! switch): only a path on this site is followed, anything else goes to `/books`.
//!
//! A browser strips tabs and newlines from a URL and reads `\` as `/`, so `/<TAB>/evil.example` or
//! `/\evil.example` become `//evil.example` — another site. Such targets are refused outright; what is
//! left is resolved against this site the way a browser would, and must still be this site with a path
//! that does not start with `//`.

use url::Url;

/// Where to go when the target is not acceptable.
pub const FALLBACK: &str = "/books";

/// `next` if it is a path on this site, else [`FALLBACK`]. The result is always a valid header value.
pub fn safe_next(next: &str) -> String {
    checked(next).unwrap_or_else(|| FALLBACK.to_string())
}

fn checked(next: &str) -> Option<String> {
    if !next.starts_with('/') || next.starts_with("//") {
        return None;
    }
    if next
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    {
        return None;
    }
    let base = Url::parse("http://buko.invalid/").ok()?;
    let resolved = base.join(next).ok()?;
    if resolved.origin() != base.origin() || resolved.path().starts_with("//") {
        return None;
    }
    let mut out = resolved.path().to_string();
    if let Some(q) = resolved.query() {
        out.push('?');
        out.push_str(q);
    }
    if let Some(f) = resolved.fragment() {
        out.push('#');
        out.push_str(f);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_on_this_site_are_kept() {
        assert_eq!(safe_next("/books/1"), "/books/1");
        assert_eq!(safe_next("/books?x=1#top"), "/books?x=1#top");
        assert_eq!(safe_next("/settings"), "/settings");
    }

    #[test]
    fn anything_else_goes_to_books() {
        for bad in [
            "",
            "books",
            "//evil.com",
            "https://evil.com",
            "/\\evil.com",
            "\\/evil.com",
            "/\t/evil.example/again",
            "/\n/evil.example",
            "/\u{b}/evil.example",
            "/\r\n/evil.example",
            "/\u{85}/evil.example",
            "/\u{2028}/evil.example",
            "/ /evil.example",
            "/./\u{0}/evil",
            "/.//evil.example",
            "/..//evil.example",
            "/%2e%2e//evil.example",
        ] {
            assert_eq!(safe_next(bad), FALLBACK, "{bad:?}");
        }
    }

    #[test]
    fn the_result_is_always_a_header_value() {
        for s in ["/a\u{7f}b", "/é", "/%0a"] {
            let out = safe_next(s);
            assert!(
                actix_web::http::header::HeaderValue::from_str(&out).is_ok(),
                "{s:?} -> {out:?}"
            );
        }
    }
}
