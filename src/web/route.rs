//! The route pattern a request matches (`/api/v1/books/{id}`), found once per request. Before routing
//! (in the middleware) actix finds it by matching the path against every route's pattern again, each
//! dynamic one a regular expression: three middlewares asking for it cost three full walks of the
//! routes on every request (a profile of the load test showed the regex engine among the HTTP
//! workers' top symbols). The first to ask stores it in the request's extensions; the others read it.

use std::rc::Rc;

use actix_web::dev::ServiceRequest;
use actix_web::HttpMessage;

#[derive(Clone)]
struct Matched(Option<Rc<str>>);

/// The pattern of the route `req` will be routed to; `None` when no route matches its path.
pub fn pattern(req: &ServiceRequest) -> Option<Rc<str>> {
    if let Some(m) = req.extensions().get::<Matched>() {
        return m.0.clone();
    }
    let found: Option<Rc<str>> = req.match_pattern().map(Rc::from);
    req.extensions_mut().insert(Matched(found.clone()));
    found
}

#[cfg(test)]
mod tests {
    use actix_web::middleware::{from_fn, Next};
    use actix_web::test::{call_and_read_body, init_service, TestRequest};
    use actix_web::{body::MessageBody, web, App, HttpRequest};

    use super::*;

    /// What the first middleware stored, as the handler sees it.
    async fn stored(req: HttpRequest) -> String {
        let ext = req.extensions();
        let m = ext
            .get::<Matched>()
            .expect("the middleware stored the pattern");
        m.0.as_deref().unwrap_or("none").to_string()
    }

    async fn asks_twice(
        req: ServiceRequest,
        next: Next<impl MessageBody>,
    ) -> Result<actix_web::dev::ServiceResponse<impl MessageBody>, actix_web::Error> {
        let first = pattern(&req);
        assert_eq!(first, pattern(&req));
        next.call(req).await
    }

    #[actix_web::test]
    async fn the_pattern_is_found_once_and_read_back_by_later_askers() {
        let app = init_service(
            App::new()
                .wrap(from_fn(asks_twice))
                .route("/books/new", web::get().to(stored))
                .route("/books/{id}", web::get().to(stored))
                .default_service(web::to(stored)),
        )
        .await;
        for (path, want) in [
            ("/books/new", "/books/new"),
            ("/books/7f1c", "/books/{id}"),
            ("/nowhere", "none"),
        ] {
            let body = call_and_read_body(&app, TestRequest::get().uri(path).to_request()).await;
            assert_eq!(body, want.as_bytes(), "{path}");
        }
    }
}
