//! REST API v1: keys, validation (nothing half-written), status codes, rate limits.

use diesel::prelude::*;
use serde_json::json;

use crate::helpers::{
    author, create_book_via_api, make_ready, sample_architecture, spawn_web_app, Client, TestApp,
};

fn book_count(app: &TestApp) -> i64 {
    use buko::db::schema::{books, jobs};
    let mut c = app.db();
    let b: i64 = books::table.count().get_result(&mut c).expect("count");
    let j: i64 = jobs::table.count().get_result(&mut c).expect("count");
    assert_eq!(b, j, "every book has exactly its architecture job");
    b
}

#[actix_web::test]
async fn missing_unknown_and_revoked_keys_are_401() {
    let app = spawn_web_app().await;
    let a = author(&app).await;
    let anon = Client::new(&app);
    assert_eq!(anon.get("/api/v1/books").await.status, 401);
    let res = anon
        .with_api_key("buko_nothere0000000000", "GET", "/api/v1/books", None)
        .await;
    assert_eq!(res.status, 401);
    assert_eq!(res.json()["error"], "unauthorized");

    let res = a
        .api("POST", "/api/v1/keys", Some(json!({"name": "ci"})))
        .await;
    assert_eq!(res.status, 201, "{}", res.body);
    let key = res.json()["key"].as_str().expect("key").to_string();
    let prefix = res.json()["prefix"].as_str().expect("prefix").to_string();
    assert!(key.starts_with(&prefix));
    let list = a.api("GET", "/api/v1/keys", None).await.json();
    assert_eq!(list.as_array().expect("list").len(), 2);
    assert!(
        !list.to_string().contains(&key),
        "keys are never listed in clear"
    );
    assert_eq!(
        anon.with_api_key(&key, "GET", "/api/v1/books", None)
            .await
            .status,
        200
    );
    assert_eq!(
        a.api("DELETE", &format!("/api/v1/keys/{prefix}"), None)
            .await
            .status,
        204
    );
    assert_eq!(
        anon.with_api_key(&key, "GET", "/api/v1/books", None)
            .await
            .status,
        401
    );
}

#[actix_web::test]
async fn book_lifecycle_over_the_api() {
    let app = spawn_web_app().await;
    let a = author(&app).await;
    let id = create_book_via_api(&a, "An API book").await;
    let got = a
        .api("GET", &format!("/api/v1/books/{id}"), None)
        .await
        .json();
    assert_eq!(got["status"], "architecture_pending");
    assert_eq!(got["progress"]["chunks_done"], 0);
    assert_eq!(got["usage"]["cost_usd"], 0.0);
    assert!(got.get("architecture").is_none());
    let list = a.api("GET", "/api/v1/books", None).await.json();
    assert_eq!(list[0]["id"], id.as_str());

    // Not ready yet: 409.
    let body = json!({"architecture": sample_architecture()});
    assert_eq!(
        a.api(
            "PUT",
            &format!("/api/v1/books/{id}/architecture"),
            Some(body.clone())
        )
        .await
        .status,
        409
    );
    make_ready(&app, &id).await;
    let mut arch = sample_architecture();
    arch.chapters.swap(0, 2);
    arch.chapters[0].title = "Renamed".into();
    let res = a
        .api(
            "PUT",
            &format!("/api/v1/books/{id}/architecture"),
            Some(json!({"architecture": arch})),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let got = a
        .api("GET", &format!("/api/v1/books/{id}"), None)
        .await
        .json();
    assert_eq!(got["architecture"]["chapters"][0]["title"], "Renamed");

    // Invalid architecture: 422 and unchanged.
    let mut bad = sample_architecture();
    bad.chapters.clear();
    let res = a
        .api(
            "PUT",
            &format!("/api/v1/books/{id}/architecture"),
            Some(json!({"architecture": bad})),
        )
        .await;
    assert_eq!(res.status, 422);
    assert_eq!(res.json()["error"], "invalid_input");

    assert_eq!(
        a.api("POST", &format!("/api/v1/books/{id}/approve"), None)
            .await
            .status,
        202
    );
    let res = a
        .api(
            "PUT",
            &format!("/api/v1/books/{id}/architecture"),
            Some(body),
        )
        .await;
    assert_eq!(res.status, 409, "editing after approval");
    let got = a
        .api("GET", &format!("/api/v1/books/{id}"), None)
        .await
        .json();
    assert_eq!(got["status"], "queued");
    assert_eq!(got["architecture"]["chapters"][0]["title"], "Renamed");
    assert_eq!(
        a.api("POST", &format!("/api/v1/books/{id}/approve"), None)
            .await
            .status,
        409
    );

    {
        let mut c = app.db();
        buko::db::repo::events::append(&mut c, &id, "status", &json!({"status": "generating"}))
            .expect("event");
        buko::db::repo::events::append(&mut c, &id, "chunk_started", &json!({"seq": 1}))
            .expect("event");
    }
    // Seq 1 is the architecture's `status` event; 2 and 3 were appended above.
    let events = a
        .api("GET", &format!("/api/v1/books/{id}/events?after=2"), None)
        .await
        .json();
    assert_eq!(events.as_array().expect("events").len(), 1);
    assert_eq!(events[0]["seq"], 3);
    assert_eq!(events[0]["kind"], "chunk_started");
}

#[actix_web::test]
async fn invalid_input_is_a_clear_4xx_and_writes_nothing() {
    let app = spawn_web_app().await;
    let a = author(&app).await;
    let cases = [
        (json!({"idea": ""}), 422),
        (json!({"idea": "   "}), 422),
        (json!({"idea": "x".repeat(5001)}), 422),
        (json!({"idea": "ok", "language": "fr"}), 422),
        (json!({"idea": "ok", "target_pages": 5}), 422),
        (json!({"idea": "ok", "target_pages": 1001}), 422),
        (json!({"idea": "ok", "target_pages": "many"}), 400),
        (json!(["not", "an", "object"]), 400),
    ];
    for (body, status) in cases {
        let res = a.api("POST", "/api/v1/books", Some(body.clone())).await;
        assert_eq!(res.status, status, "{body}: {}", res.body);
        let err = res.json();
        assert!(
            err["error"].is_string() && err["message"].is_string(),
            "{err}"
        );
    }
    let res = a
        .client
        .send_raw(
            "POST",
            "/api/v1/books",
            "application/json",
            b"{\"idea\": ".to_vec(),
        )
        .await;
    assert_eq!(res.status, 401, "no key: refused before parsing");
    let http = awc::Client::new();
    let mut raw = http
        .post(format!("{}/api/v1/books", app.base))
        .insert_header(("x-api-key", a.key.as_str()))
        .insert_header(("content-type", "application/json"))
        .send_body("{\"idea\": ")
        .await
        .expect("sent");
    assert_eq!(raw.status().as_u16(), 400);
    let body = raw.body().await.expect("body");
    assert!(String::from_utf8_lossy(&body).contains("invalid JSON"));
    let big = format!("{{\"idea\": \"{}\"}}", "x".repeat(10 * 1024 * 1024));
    let raw = http
        .post(format!("{}/api/v1/books", app.base))
        .insert_header(("x-api-key", a.key.as_str()))
        .insert_header(("content-type", "application/json"))
        .send_body(big)
        .await;
    // The server may answer 413 before reading the whole body and close the connection.
    if let Ok(r) = raw {
        assert_eq!(r.status().as_u16(), 413);
    }
    assert_eq!(book_count(&app), 0, "nothing was written");
}

#[actix_web::test]
async fn the_fourth_architecture_in_an_hour_is_429_on_api_and_page() {
    let app = spawn_web_app().await;
    let a = author(&app).await;
    for i in 0..3 {
        create_book_via_api(&a, &format!("Book {i}")).await;
    }
    let res = a
        .api("POST", "/api/v1/books", Some(json!({"idea": "fourth"})))
        .await;
    assert_eq!(res.status, 429, "{}", res.body);
    let retry: u64 = res
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("secs");
    assert!(retry > 3000 && retry <= 3600, "{retry}");
    assert_eq!(res.json()["error"], "rate_limited");
    assert_eq!(res.json()["retry_after"], retry);

    let token = a.client.csrf("/books/new").await;
    assert!(a
        .client
        .get("/books/new")
        .await
        .body
        .contains("this hour: 0"));
    let res = a
        .client
        .post_form(
            "/books",
            &[
                ("csrf_token", &token),
                ("idea", "fifth"),
                ("language", "en"),
            ],
        )
        .await;
    assert_eq!(res.status, 429);
    assert!(res.header("retry-after").is_some());
    assert!(
        res.header("content-type")
            .unwrap_or("")
            .starts_with("text/html"),
        "a friendly page"
    );
    assert_eq!(book_count(&app), 3);
}

#[actix_web::test]
async fn approvals_are_limited_to_two_per_hour_on_free() {
    let app = spawn_web_app().await;
    let a = author(&app).await;
    let mut ids = vec![];
    for i in 0..3 {
        let id = create_book_via_api(&a, &format!("Book {i}")).await;
        make_ready(&app, &id).await;
        ids.push(id);
    }
    for id in &ids[..2] {
        assert_eq!(
            a.api("POST", &format!("/api/v1/books/{id}/approve"), None)
                .await
                .status,
            202
        );
    }
    let res = a
        .api("POST", &format!("/api/v1/books/{}/approve", ids[2]), None)
        .await;
    assert_eq!(res.status, 429);
    assert_eq!(
        crate::helpers::book_status(&app, &ids[2]),
        "architecture_ready"
    );
}

#[actix_web::test]
async fn per_ip_limit_applies_before_authentication() {
    let app = spawn_web_app().await;
    let anon = Client::new(&app);
    // Default: 300 requests per minute per IP on /api/ (and page POSTs).
    for _ in 0..300 {
        assert_eq!(anon.get("/api/v1/books").await.status, 401);
    }
    let res = anon.get("/api/v1/books").await;
    assert_eq!(res.status, 429);
    assert!(res.header("retry-after").is_some());
    assert_eq!(res.json()["error"], "rate_limited");
    // Page reads are not counted: the author can still read.
    assert_eq!(anon.get("/").await.status, 200);
}
