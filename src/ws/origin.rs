//! Which pages may open a WebSocket: a browser always sends `Origin` on the handshake, and the cookie
//! goes along whatever page opened it, so a page of another origin (even a sibling subdomain of the same
//! site) must be refused. Accepted: the origin of `BUKO_PUBLIC_URL`, each of `BUKO_ALLOWED_ORIGINS`,
//! and the site's own host (the `Host` the browser addressed, which a foreign page cannot choose). A
//! handshake without `Origin` is not from a browser page (API clients), and carries no ambient cookie
//! of a victim, so it is left to authentication.

use actix_web::http::header;
use actix_web::HttpRequest;

use crate::config::Settings;

/// Whether the handshake's `Origin` (if any) is allowed.
pub fn allowed(req: &HttpRequest, settings: &Settings) -> bool {
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let origin = origin.trim_end_matches('/');
    let Some(normalized) = normalize(origin) else {
        return false;
    };
    let configured = std::iter::once(settings.mail.public_url.as_str())
        .chain(settings.allowed_origins.iter().map(String::as_str));
    for candidate in configured {
        if normalize(candidate).is_some_and(|c| c == normalized) {
            return true;
        }
    }
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_ascii_lowercase);
    host.is_some_and(|h| origin_host(&normalized) == Some(h.as_str()))
}

/// `scheme://host[:port]` in lower case with the scheme's default port left out, or `None` when the
/// text is not an origin.
fn normalize(origin: &str) -> Option<String> {
    let url = url::Url::parse(origin).ok()?;
    match url.origin() {
        url::Origin::Tuple(..) => Some(url.origin().ascii_serialization()),
        url::Origin::Opaque(_) => None,
    }
}

fn origin_host(origin: &str) -> Option<&str> {
    origin.split_once("://").map(|(_, h)| h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn settings(public: &str, extra: &[&str]) -> Settings {
        let mut s = Settings::from_env().expect("settings");
        s.mail.public_url = public.into();
        s.allowed_origins = extra.iter().map(|e| e.to_string()).collect();
        s
    }

    #[test]
    fn origins() {
        let s = settings("https://buko.example.com", &["https://app.example.com"]);
        let req = |origin: Option<&str>, host: &str| {
            let mut r = TestRequest::get().uri("/ws").insert_header(("host", host));
            if let Some(o) = origin {
                r = r.insert_header(("origin", o));
            }
            r.to_http_request()
        };
        let host = "buko.example.com";
        assert!(allowed(&req(None, host), &s));
        assert!(allowed(&req(Some("https://buko.example.com"), host), &s));
        assert!(allowed(
            &req(Some("https://BUKO.example.com:443"), host),
            &s
        ));
        assert!(allowed(&req(Some("https://app.example.com"), host), &s));
        assert!(!allowed(&req(Some("https://evil.example.com"), host), &s));
        assert!(!allowed(
            &req(Some("http://buko.example.com.evil.net"), host),
            &s
        ));
        assert!(!allowed(&req(Some("null"), host), &s));
        // The site's own host, as addressed (a local install reached by its address).
        assert!(allowed(
            &req(Some("http://127.0.0.1:9000"), "127.0.0.1:9000"),
            &s
        ));
        assert!(!allowed(
            &req(Some("http://127.0.0.1:9001"), "127.0.0.1:9000"),
            &s
        ));
    }
}
