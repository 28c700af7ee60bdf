//! Server-side sessions (issue 18, finding 1): logging out ends the session for every copy of the
//! cookie, on every node; the settings page lists the user's sessions and ends one; a socket opened
//! with a cookie closes when its session ends, on another node too.

use std::time::Duration;

use awc::ws::Frame;
use futures_util::StreamExt;

use crate::helpers::{spawn_app, spawn_app_with, unique_email, Client, TestApp, PASSWORD};

/// A client that sends exactly the given `Cookie` header (a copy an attacker kept).
async fn get_with_cookie(base: &str, cookie: &str, path: &str) -> u16 {
    awc::Client::builder()
        .disable_redirects()
        .finish()
        .get(format!("{base}{path}"))
        .insert_header(("cookie", cookie))
        .send()
        .await
        .expect("request")
        .status()
        .as_u16()
}

async fn logout(c: &Client) {
    let token = c.csrf("/settings").await;
    let res = c.post_form("/logout", &[("csrf_token", &token)]).await;
    assert_eq!(res.status, 303);
}

#[actix_web::test]
async fn a_saved_cookie_is_refused_after_logout() {
    let app = spawn_app().await;
    let c = Client::new(&app);
    assert_eq!(c.register(&unique_email(), PASSWORD).await.status, 303);
    let saved = c.cookie_header();
    assert_eq!(get_with_cookie(&app.base, &saved, "/settings").await, 200);
    logout(&c).await;
    // Fails before issue 18: the saved cookie kept answering 200 for 14 days.
    for path in ["/settings", "/books"] {
        assert_eq!(
            get_with_cookie(&app.base, &saved, path).await,
            303,
            "{path} with the saved cookie after logout"
        );
    }
}

#[actix_web::test]
async fn settings_list_the_sessions_and_end_one() {
    let app = spawn_app().await;
    let email = unique_email();
    let laptop = Client::new(&app);
    assert_eq!(laptop.register(&email, PASSWORD).await.status, 303);
    let mut phone = Client::new(&app);
    phone
        .default_headers
        .push(("user-agent".into(), "PhoneBrowser/1.0".into()));
    assert_eq!(phone.login(&email, PASSWORD).await.status, 303);
    let page = laptop.get("/settings").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("PhoneBrowser/1.0"),
        "the phone is listed"
    );
    assert_eq!(page.body.matches("/settings/sessions/").count(), 2);
    // The phone's row is the one not marked as this browser.
    let phone_id = session_ids(&phone.get("/settings").await.body)
        .into_iter()
        .find(|(_, current)| *current)
        .expect("the phone's own session")
        .0;
    let token = crate::helpers::csrf_in(&page.body).expect("token");
    let res = laptop
        .post_form(
            &format!("/settings/sessions/{phone_id}/end"),
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(res.status, 303);
    assert_eq!(phone.get("/settings").await.status, 303, "phone signed out");
    assert_eq!(laptop.get("/settings").await.status, 200, "laptop still in");
    // Another user's session id, or one that is not an id: not found.
    let res = laptop
        .post_form(
            &format!("/settings/sessions/{phone_id}/end"),
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(res.status, 404);
    let spanish = {
        let mut c = Client::new(&app);
        c.default_headers
            .push(("accept-language".into(), "es".into()));
        assert_eq!(c.register(&unique_email(), PASSWORD).await.status, 303);
        c.get("/settings").await.body
    };
    assert!(spanish.contains("este navegador"), "localized");
}

/// (session id, marked as this browser) for each row of the settings page's session table.
fn session_ids(html: &str) -> Vec<(String, bool)> {
    html.split("<tr>")
        .filter_map(|row| {
            let start = row.find("/settings/sessions/")? + "/settings/sessions/".len();
            let id = row[start..].split('/').next()?.to_string();
            Some((id, row.contains("badge")))
        })
        .collect()
}

/// Two nodes sharing one database (and Redis): what one node ends, the other refuses.
async fn two_nodes() -> (TestApp, TestApp) {
    let redis = crate::redis_support::shared_url();
    let url = redis.clone();
    let a = spawn_app_with(|s| s.redis_url = Some(buko::secret::Secret::new(url))).await;
    let db = a.database_url.clone();
    let b = spawn_app_with(|s| {
        s.redis_url = Some(buko::secret::Secret::new(redis));
        s.database_url = buko::secret::Secret::new(db);
    })
    .await;
    (a, b)
}

#[actix_web::test]
async fn logout_on_one_node_is_refused_on_the_other_within_a_second_and_closes_its_socket() {
    let (a, b) = two_nodes().await;
    let c = Client::new(&a);
    assert_eq!(c.register(&unique_email(), PASSWORD).await.status, 303);
    let saved = c.cookie_header();
    // Node B has seen (and cached) the session.
    assert_eq!(get_with_cookie(&b.base, &saved, "/settings").await, 200);
    let (res, mut ws) = awc::Client::new()
        .ws(format!("{}/ws", b.base))
        .set_header("cookie", saved.clone())
        .connect()
        .await
        .expect("ws to node B");
    assert_eq!(res.status().as_u16(), 101);
    logout(&c).await;
    actix_web::rt::time::sleep(Duration::from_millis(1000)).await;
    // Fails before issue 18: node B kept honouring the cookie and the socket.
    assert_eq!(get_with_cookie(&b.base, &saved, "/settings").await, 303);
    let closed = actix_web::rt::time::timeout(Duration::from_secs(5), async {
        while let Some(frame) = ws.next().await {
            if let Ok(Frame::Close(reason)) = frame {
                return reason.and_then(|r| r.description);
            }
        }
        None
    })
    .await
    .expect("the socket on node B closes within 5 s");
    assert_eq!(closed.as_deref(), Some("session ended"));
}
