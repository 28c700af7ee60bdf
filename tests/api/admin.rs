//! The admin panel over HTTP: who may see it, user management (plan, role, disable, log out everywhere,
//! unlock after a lockout), generations (cancel, retry), broadcast, and the audit log of every action.

use buko::db::repo;
use diesel::prelude::*;

use crate::helpers::{spawn_app, spawn_web_app, unique_email, Client, TestApp, PASSWORD};

/// A signed-in user of the app, with the client that holds their session.
pub struct Member {
    pub id: String,
    pub email: String,
    pub client: Client,
}

pub async fn member(app: &TestApp) -> Member {
    let client = Client::new(app);
    let email = unique_email();
    let res = client.register(&email, PASSWORD).await;
    assert_eq!(res.status, 303, "register: {}", res.body);
    let id = repo::users::find_by_email(&mut app.db(), &email)
        .expect("query")
        .expect("user exists")
        .id
        .into();
    Member { id, email, client }
}

/// A signed-in admin (promoted in the database, as `buko admin create-user --admin` does).
pub async fn admin(app: &TestApp) -> Member {
    let m = member(app).await;
    use buko::db::schema::users;
    diesel::update(users::table.find(&m.id))
        .set(users::role.eq("admin"))
        .execute(&mut app.db())
        .expect("promote");
    m
}

/// A book of `owner` in `status`, titled `title`, written straight to the database.
pub fn book(app: &TestApp, owner: &str, title: &str, status: &str) -> String {
    use buko::db::schema::books;
    let new = repo::books::NewBook {
        idea: "An idea worth a book".into(),
        genre: String::new(),
        audience: String::new(),
        tone: String::new(),
        language: buko_actors::Language::En,
        target_pages: 50,
    };
    let mut c = app.db();
    let b = repo::books::create(&mut c, owner, &new).expect("create book");
    diesel::update(books::table.find(&b.id))
        .set((books::title.eq(title), books::status.eq(status)))
        .execute(&mut c)
        .expect("set status");
    b.id.into()
}

/// Posts an admin form with the session's CSRF token (read from the users page).
pub async fn act(m: &Member, path: &str, extra: &[(&str, &str)]) -> crate::helpers::Response {
    let token = m.client.csrf("/admin/users").await;
    let mut form = vec![("csrf_token", token.as_str())];
    form.extend_from_slice(extra);
    m.client.post_form(path, &form).await
}

fn audit_actions(app: &TestApp) -> Vec<(String, String)> {
    repo::audit::recent(&mut app.db(), 100)
        .expect("audit")
        .into_iter()
        .map(|e| (e.action, e.target_id))
        .collect()
}

#[actix_web::test]
async fn only_admins_enter() {
    let app = spawn_app().await;
    let anon = Client::new(&app);
    for path in [
        "/admin",
        "/admin/users",
        "/admin/books",
        "/admin/audit",
        "/admin/broadcast",
        "/admin/subscriptions",
        "/admin/plans",
    ] {
        let res = anon.get(path).await;
        assert_eq!(res.status, 303, "{path}");
        assert!(
            res.header("location").unwrap_or("").starts_with("/login"),
            "{path}"
        );
    }
    let user = member(&app).await;
    assert_eq!(user.client.get("/admin").await.status, 403);
    assert_eq!(user.client.get("/admin/stats").await.status, 403);
    let a = admin(&app).await;
    let res = a.client.get("/admin").await;
    assert_eq!(res.status, 200);
    assert!(
        res.body.contains("data-stat=\"ws_connections\""),
        "{}",
        res.body
    );
    let stats = a.client.get("/admin/stats").await.json();
    assert!(
        stats["queues"]
            .as_array()
            .is_some_and(|q| q.len() == buko::queue::QueueName::ALL.len()),
        "{stats}"
    );
    assert!(
        stats["memory_bytes"].as_u64().is_some_and(|m| m > 0),
        "{stats}"
    );
    // A non-admin's POST is refused before anything changes, even with a valid token.
    let token = user.client.csrf("/settings").await;
    let res = user
        .client
        .post_form(
            &format!("/admin/users/{}/plan", user.id),
            &[("csrf_token", &token), ("value", "pro")],
        )
        .await;
    assert_eq!(res.status, 403);
    let u = repo::users::find(&mut app.db(), &user.id)
        .expect("q")
        .expect("u");
    assert_eq!(u.plan, "free");
}

#[actix_web::test]
async fn admin_manages_users_and_every_action_is_audited() {
    let app = spawn_app().await;
    let a = admin(&app).await;
    let u = member(&app).await;

    let res = a
        .client
        .get(&format!("/admin/users?q={}", &u.email[..10]))
        .await;
    assert_eq!(res.status, 200);
    assert!(res.body.contains(&u.email));
    assert!(res.body.contains(&format!("data-user=\"{}\"", u.id)));
    assert!(
        !res.body.contains(&format!("data-user=\"{}\"", a.id)),
        "the search filters by e-mail"
    );

    // Without the session's CSRF token nothing happens.
    let path = format!("/admin/users/{}/plan", u.id);
    let res = a
        .client
        .post_form(&path, &[("csrf_token", "forged"), ("value", "unlimited")])
        .await;
    assert_eq!(res.status, 403);
    let res = a.client.post_form(&path, &[("value", "unlimited")]).await;
    assert_eq!(res.status, 400);
    assert_eq!(
        act(
            &a,
            &format!("/admin/users/{}/plan", u.id),
            &[("value", "pro")]
        )
        .await
        .status,
        303
    );
    assert_eq!(
        act(
            &a,
            &format!("/admin/users/{}/plan", u.id),
            &[("value", "gold")]
        )
        .await
        .status,
        422
    );
    let row = repo::users::find(&mut app.db(), &u.id)
        .expect("q")
        .expect("u");
    assert_eq!(row.plan, "pro");

    // Log out everywhere: the user's cookie stops working.
    assert_eq!(u.client.get("/settings").await.status, 200);
    assert_eq!(
        act(&a, &format!("/admin/users/{}/logout-everywhere", u.id), &[])
            .await
            .status,
        303
    );
    assert_eq!(u.client.get("/settings").await.status, 303);

    // Disable: cannot log in; enable: can again.
    assert_eq!(
        act(&a, &format!("/admin/users/{}/disable", u.id), &[])
            .await
            .status,
        303
    );
    assert_eq!(u.client.login(&u.email, PASSWORD).await.status, 403);
    assert_eq!(
        act(&a, &format!("/admin/users/{}/enable", u.id), &[])
            .await
            .status,
        303
    );
    assert_eq!(u.client.login(&u.email, PASSWORD).await.status, 303);

    // The last admin cannot demote themself.
    let res = act(
        &a,
        &format!("/admin/users/{}/role", a.id),
        &[("value", "user")],
    )
    .await;
    assert_eq!(res.status, 409);

    let actions = audit_actions(&app);
    for expected in [
        "user.plan",
        "user.logout_everywhere",
        "user.disable",
        "user.enable",
    ] {
        assert!(
            actions
                .iter()
                .any(|(act, target)| act == expected && target == &u.id),
            "{expected} missing from {actions:?}"
        );
    }
    let page = a.client.get("/admin/audit").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("user.logout_everywhere") && page.body.contains(&a.email));
}

#[actix_web::test]
async fn lockout_is_visible_and_an_admin_unlocks() {
    let app = spawn_app().await;
    let a = admin(&app).await;
    let u = member(&app).await;
    let other = Client::new(&app);
    for _ in 0..5 {
        assert_eq!(other.login(&u.email, "wrong password!!").await.status, 401);
    }
    assert_eq!(other.login(&u.email, PASSWORD).await.status, 429, "locked");
    let page = a.client.get(&format!("/admin/users?q={}", u.email)).await;
    assert!(page.body.contains("/unlock"), "unlock offered");
    let row = repo::users::find(&mut app.db(), &u.id)
        .expect("q")
        .expect("u");
    assert_eq!(row.failed_logins, 5);
    assert!(row.locked_until.is_some());
    assert!(
        page.body.contains(&format!("<td>{}", row.failed_logins)),
        "failed logins shown"
    );

    assert_eq!(
        act(&a, &format!("/admin/users/{}/unlock", u.id), &[])
            .await
            .status,
        303
    );
    assert_eq!(other.login(&u.email, PASSWORD).await.status, 303);
    assert!(audit_actions(&app)
        .iter()
        .any(|(x, t)| x == "user.unlock" && t == &u.id));
}

#[actix_web::test]
async fn admin_cancels_and_retries_generations() {
    // Web-only: no worker may claim the retried job before the test reads it.
    let app = spawn_web_app().await;
    let a = admin(&app).await;
    let u = member(&app).await;
    let failed = book(&app, &u.id, "A failed book", "failed");
    let queued = book(&app, &u.id, "A queued book", "queued");

    let list = a.client.get("/admin/books?status=failed").await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("A failed book") && !list.body.contains("A queued book"));
    let detail = a.client.get(&format!("/admin/books/{failed}")).await;
    assert!(detail.body.contains(&u.email) && detail.body.contains("/retry"));

    assert_eq!(
        act(&a, &format!("/admin/books/{failed}/retry"), &[])
            .await
            .status,
        303
    );
    let b = repo::books::get(&mut app.db(), &failed).expect("book");
    assert_eq!(b.status, "queued");
    {
        use buko::db::schema::jobs;
        let n: i64 = jobs::table
            .filter(jobs::unique_key.eq(format!("book:{failed}")))
            .filter(jobs::status.eq("queued"))
            .count()
            .get_result(&mut app.db())
            .expect("jobs");
        assert_eq!(n, 1, "a book job was queued");
    }

    assert_eq!(
        act(&a, &format!("/admin/books/{queued}/cancel"), &[])
            .await
            .status,
        303
    );
    let b = repo::books::get(&mut app.db(), &queued).expect("book");
    assert_eq!(
        (b.status.as_str(), b.control.as_str()),
        ("cancelled", "cancel")
    );
    // Cancelling again is a conflict, not a 500.
    assert_eq!(
        act(&a, &format!("/admin/books/{queued}/cancel"), &[])
            .await
            .status,
        409
    );

    let actions = audit_actions(&app);
    assert!(actions.contains(&("book.retry".into(), failed.clone())));
    assert!(actions.contains(&("book.cancel".into(), queued.clone())));
}
