//! The assembled node: its workers deliver the book-completed e-mail (to the outbox when no SMTP is
//! configured), `/health/ready` reports Redis degraded while it is away and recovers, and jobs keep
//! running through the outage.

use std::time::{Duration, Instant};

use buko::db::schema::books;
use buko::queue::{enqueue, Enqueued, JobPayload, NewJob};
use diesel::prelude::*;

use crate::helpers::{spawn_app_with, Client};
use crate::redis_support::PrivateRedis;

fn add_book(app: &crate::helpers::TestApp, title: &str, language: &str) -> String {
    add_book_in(&mut app.db(), title, language)
}

/// A user and a completed book of theirs, written directly.
pub fn add_book_in(c: &mut buko::db::DbConn, title: &str, language: &str) -> String {
    let user = buko::db::repo::users::create(
        c,
        buko::db::repo::users::NewUser {
            email: &crate::helpers::unique_email(),
            password_hash: "x".into(),
            role: buko::db::models::ROLE_USER,
            locale: None,
        },
    )
    .expect("insert test rows");
    let id = buko::db::new_id();
    let t = buko::db::now();
    diesel::insert_into(books::table)
        .values((
            books::id.eq(&id),
            books::user_id.eq(&user.id),
            books::title.eq(title),
            books::idea.eq("an idea"),
            books::language.eq(language),
            books::status.eq("completed"),
            books::created_at.eq(t),
            books::updated_at.eq(t),
        ))
        .execute(c)
        .expect("insert test rows");
    id
}

fn mail_for(app: &crate::helpers::TestApp, book_id: &str) -> Option<String> {
    let dir = app.data_dir.path().join("outbox");
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .find(|m| m.contains(book_id))
}

async fn wait_for_mail(app: &crate::helpers::TestApp, book_id: &str) -> String {
    let start = Instant::now();
    loop {
        if let Some(m) = mail_for(app, book_id) {
            return m;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no e-mail for {book_id}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn send_mail_job(app: &crate::helpers::TestApp, book_id: &str) {
    let r = enqueue(
        &mut app.db(),
        NewJob::now(JobPayload::BookCompletedEmail {
            book_id: book_id.into(),
        }),
    )
    .expect("enqueue");
    assert!(matches!(r, Enqueued::Created(_)));
}

#[actix_web::test]
async fn workers_deliver_mail_through_a_redis_outage_and_readiness_tracks_it() {
    let mut redis = PrivateRedis::start();
    let url = redis.url();
    let app = spawn_app_with(|s| {
        s.redis_url = Some(buko::secret::Secret::new(url));
        s.queue.poll = Duration::from_millis(200);
        s.mail.public_url = "https://buko.example".into();
    })
    .await;
    let c = Client::new(&app);
    let ready = c.get("/health/ready").await;
    assert_eq!(ready.status, 200, "{}", ready.body);
    assert_eq!(ready.json()["status"], "ready");
    assert_eq!(ready.json()["checks"]["redis"], "ok");

    let en = add_book(&app, "The Lighthouse", "en");
    send_mail_job(&app, &en);
    let mail = wait_for_mail(&app, &en).await;
    assert!(mail.contains(&format!("https://buko.example/books/{en}")));
    assert!(mail.contains("The Lighthouse"));

    redis.stop();
    let ready = c.get("/health/ready").await;
    assert_eq!(ready.status, 200, "{}", ready.body);
    assert_eq!(ready.json()["status"], "degraded");
    assert_eq!(ready.json()["checks"]["redis"]["degraded"], "local-only");
    // Jobs do not depend on Redis: nothing is lost while it is away.
    let es = add_book(&app, "El faro", "es");
    send_mail_job(&app, &es);
    let mail = wait_for_mail(&app, &es).await;
    assert!(
        mail.contains("Subject: Tu libro =?utf-8?"),
        "a Spanish subject, encoded: {mail}"
    );

    redis.restart();
    let start = Instant::now();
    loop {
        let ready = c.get("/health/ready").await;
        if ready.json()["status"] == "ready" {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "{}", ready.body);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[actix_web::test]
async fn a_mail_job_for_a_missing_book_fails_without_retrying() {
    let app = spawn_app_with(|s| s.queue.poll = Duration::from_millis(200)).await;
    send_mail_job(&app, "no-such-book");
    let start = Instant::now();
    loop {
        use buko::db::schema::jobs;
        let status: String = jobs::table
            .select(jobs::status)
            .first(&mut app.db())
            .unwrap();
        if status == "failed" {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "status {status}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
