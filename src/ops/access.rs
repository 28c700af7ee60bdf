//! Who may read operational detail (`/metrics`, the checks of `/health/ready`). Open by default, as a
//! single node on loopback wants. A fleet closes it one of two ways: `BUKO_OPS_TOKEN` (a bearer token
//! Prometheus sends) or `BUKO_OPS_BIND` (a second listener on a private address that serves only the
//! health and metrics routes, open; the public listener then hides them unless the token is given).
//! Liveness and readiness *status* stay public: load balancers and probes need no secret.

use actix_web::{web, HttpRequest};
use sha2::{Digest, Sha256};

/// App data marking the `BUKO_OPS_BIND` listener.
pub struct OpsListener;

/// Whether this request may see metrics and readiness detail.
pub fn detail_allowed(req: &HttpRequest, ops: &super::OpsSettings) -> bool {
    if req.app_data::<web::Data<OpsListener>>().is_some() {
        return true;
    }
    match &ops.ops_token {
        Some(token) => bearer(req).is_some_and(|given| same(given, token.expose())),
        None => ops.ops_bind.is_none(),
    }
}

/// Whether a token is what the refusal should ask for (else the routes are simply not here).
pub fn token_configured(ops: &super::OpsSettings) -> bool {
    ops.ops_token.is_some()
}

fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get("authorization")?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Compares digests, so the time taken says nothing about how much of the token matched.
fn same(a: &str, b: &str) -> bool {
    Sha256::digest(a.as_bytes()) == Sha256::digest(b.as_bytes())
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;
    use crate::ops::OpsSettings;
    use crate::secret::Secret;

    #[test]
    fn token_and_listener_rules() {
        let open = OpsSettings::default();
        let req = TestRequest::default().to_http_request();
        assert!(detail_allowed(&req, &open), "open by default");

        let token = OpsSettings {
            ops_token: Some(Secret::new("s3cret-token")),
            ..OpsSettings::default()
        };
        assert!(!detail_allowed(&req, &token));
        let wrong = TestRequest::default()
            .insert_header(("authorization", "Bearer nope"))
            .to_http_request();
        assert!(!detail_allowed(&wrong, &token));
        let right = TestRequest::default()
            .insert_header(("authorization", "bearer s3cret-token"))
            .to_http_request();
        assert!(detail_allowed(&right, &token));

        let separate = OpsSettings {
            ops_bind: Some("127.0.0.1:0".into()),
            ..OpsSettings::default()
        };
        assert!(
            !detail_allowed(&req, &separate),
            "hidden on the public listener"
        );
        let on_ops = TestRequest::default()
            .app_data(web::Data::new(OpsListener))
            .to_http_request();
        assert!(detail_allowed(&on_ops, &separate));
    }
}
