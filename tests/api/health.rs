use crate::helpers::{spawn_app, spawn_app_with, Client};

#[actix_web::test]
async fn live_and_ready_answer_json() {
    let app = spawn_app().await;
    let c = Client::new(&app);
    let live = c.get("/health/live").await;
    assert_eq!(live.status, 200);
    assert_eq!(live.json()["status"], "ok");
    let ready = c.get("/health/ready").await;
    assert_eq!(ready.status, 200, "{}", ready.body);
    assert_eq!(ready.json()["checks"]["database"], "ok");
    assert!(ready.header("x-request-id").is_some());
}

#[actix_web::test]
async fn ready_is_degraded_not_down_when_redis_is_unreachable() {
    // Nothing listens on port 1: the node runs local-only and says so, but stays in rotation.
    let app =
        spawn_app_with(|s| s.redis_url = Some(buko::secret::Secret::new("redis://127.0.0.1:1")))
            .await;
    let ready = Client::new(&app).get("/health/ready").await;
    assert_eq!(ready.status, 200, "{}", ready.body);
    let body = ready.json();
    assert_eq!(body["status"], "degraded");
    assert_eq!(body["checks"]["database"], "ok");
    assert!(body["checks"]["redis"]["error"].is_string());
    assert_eq!(body["checks"]["redis"]["degraded"], "local-only");
    assert_eq!(body["checks"]["queue"]["workers"], true);
}

#[actix_web::test]
async fn unknown_routes_are_404_json_for_api_and_html_for_pages() {
    let app = spawn_app().await;
    let c = Client::new(&app);
    let api = c.get("/api/v1/nothing-here").await;
    assert_eq!(api.status, 404);
    assert_eq!(api.json()["error"], "not_found");
    let page = c.get("/nothing-here").await;
    assert_eq!(page.status, 404);
    assert!(page
        .header("content-type")
        .unwrap_or("")
        .starts_with("text/html"));
    assert!(page.body.contains("could not find"));
}

#[actix_web::test]
async fn security_headers_are_set() {
    let app = spawn_app().await;
    let res = Client::new(&app).get("/").await;
    assert_eq!(res.status, 200);
    assert!(res
        .header("content-security-policy")
        .unwrap_or("")
        .contains("frame-ancestors 'none'"));
    assert_eq!(res.header("x-content-type-options"), Some("nosniff"));
}
