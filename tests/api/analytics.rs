//! Analytics: series against a seeded dataset (known counts per bucket, on whichever backend the run
//! uses), bucket edges across midnight UTC and a DST change in the viewer's zone, who may read the
//! admin series (403 for authors), and an author's history holding only their own books.

use buko::analytics::{self, rollup, Range};
use buko::db::repo::analytics::RollupRow;
use buko::db::schema::{books, chunks, llm_calls};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::admin::{admin, book, member};
use crate::helpers::{author, spawn_web_app, TestApp};

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("time")
        .with_timezone(&Utc)
}

fn naive(s: &str) -> NaiveDateTime {
    t(s).naive_utc()
}

fn completed_book(app: &TestApp, owner: &str, created: &str, done: &str) -> String {
    let id = book(app, owner, "Seeded", "completed");
    diesel::update(books::table.find(&id))
        .set((
            books::created_at.eq(naive(created)),
            books::completed_at.eq(Some(naive(done))),
        ))
        .execute(&mut app.db())
        .expect("times");
    id
}

#[allow(clippy::too_many_arguments)]
fn call(
    app: &TestApp,
    book: &str,
    user: &str,
    model: &str,
    at: &str,
    tokens: (i64, i64),
    latency: i64,
    ok: bool,
) {
    diesel::insert_into(llm_calls::table)
        .values((
            llm_calls::id.eq(uuid::Uuid::new_v4().to_string()),
            llm_calls::book_id.eq(Some(book)),
            llm_calls::user_id.eq(Some(user)),
            llm_calls::purpose.eq("chunk"),
            llm_calls::provider.eq("anthropic"),
            llm_calls::model.eq(model),
            llm_calls::input_tokens.eq(tokens.0),
            llm_calls::output_tokens.eq(tokens.1),
            llm_calls::cost_usd.eq(tokens.1 as f64 * 0.001),
            llm_calls::latency_ms.eq(latency),
            llm_calls::status.eq(if ok { "ok" } else { "error" }),
            llm_calls::error_kind.eq((!ok).then_some("rate_limited")),
            llm_calls::created_at.eq(naive(at)),
        ))
        .execute(&mut app.db())
        .expect("call");
}

fn chunk(app: &TestApp, book: &str, seq: i64, words: i32, at: &str) {
    diesel::insert_into(chunks::table)
        .values((
            chunks::id.eq(uuid::Uuid::new_v4().to_string()),
            chunks::book_id.eq(book),
            chunks::seq.eq(seq),
            chunks::chapter_index.eq(0),
            chunks::part_index.eq(0),
            chunks::text.eq("text"),
            chunks::words.eq(words),
            chunks::input_tokens.eq(0i64),
            chunks::output_tokens.eq(0i64),
            chunks::fence.eq(0i64),
            chunks::created_at.eq(naive(at)),
        ))
        .execute(&mut app.db())
        .expect("chunk");
}

fn values(report: &analytics::series::Report, name: &str, dim: &str) -> Vec<f64> {
    report
        .series
        .iter()
        .find(|l| l.name == name && l.dim == dim)
        .unwrap_or_else(|| panic!("no line {name}[{dim}]"))
        .values
        .iter()
        .map(|v| v.unwrap_or(f64::NAN))
        .collect()
}

/// The value of the bucket that starts at `start`.
fn at_bucket(report: &analytics::series::Report, name: &str, dim: &str, start: &str) -> f64 {
    let i = report
        .t
        .iter()
        .position(|b| *b == t(start).timestamp())
        .unwrap_or_else(|| panic!("no bucket starts at {start}: {:?}", report.t));
    values(report, name, dim)[i]
}

#[actix_web::test]
async fn series_count_seeded_rows_per_local_day_across_midnight_and_dst() {
    let app = spawn_web_app().await;
    let owner = member(&app).await;
    // Madrid went from CET (+1) to CEST (+2) at 2026-03-29 01:00 UTC.
    for (created, done) in [
        ("2026-03-20T10:00:00Z", "2026-03-28T22:59:00Z"), // Mar 28 23:59 CET — Mar 28 in both zones
        ("2026-03-20T10:00:00Z", "2026-03-28T23:59:59Z"), // Mar 29 00:59 CET — Mar 28 in UTC
        ("2026-03-20T10:00:00Z", "2026-03-29T00:00:00Z"), // midnight UTC — Mar 29 in both
        ("2026-03-20T10:00:00Z", "2026-03-29T21:59:00Z"), // Mar 29 23:59 CEST
        ("2026-03-20T10:00:00Z", "2026-03-29T22:00:00Z"), // Mar 30 00:00 CEST — Mar 29 in UTC
    ] {
        completed_book(&app, &owner.id, created, done);
    }
    let b = completed_book(
        &app,
        &owner.id,
        "2026-03-01T10:00:00Z",
        "2026-03-05T10:00:00Z",
    );
    call(
        &app,
        &b,
        &owner.id,
        "m1",
        "2026-03-29T12:00:00Z",
        (100, 10),
        110,
        true,
    );
    call(
        &app,
        &b,
        &owner.id,
        "m1",
        "2026-03-29T12:05:00Z",
        (200, 20),
        115,
        true,
    );
    call(
        &app,
        &b,
        &owner.id,
        "m2",
        "2026-03-29T12:10:00Z",
        (300, 30),
        5_000,
        false,
    );
    call(
        &app,
        &b,
        &owner.id,
        "m2",
        "2026-03-29T12:20:00Z",
        (400, 40),
        120,
        true,
    );
    chunk(&app, &b, 1, 700, "2026-03-29T12:00:00Z");
    chunk(&app, &b, 2, 300, "2026-03-29T23:30:00Z");

    let now = t("2026-04-10T12:00:00Z");
    let mut c = app.db();
    let (from, to) = (t("2026-03-01T00:00:00Z"), t("2026-04-11T00:00:00Z"));
    rollup::rebuild(&mut c, 900, from.timestamp(), to.timestamp()).expect("rebuild");
    // Rebuilding again changes nothing (the roll-up replaces its slots).
    rollup::rebuild(&mut c, 900, from.timestamp(), to.timestamp()).expect("rebuild twice");

    let madrid = chrono_tz::Europe::Madrid;
    let r = analytics::admin_report(&mut c, Range::Month, madrid, None, now).expect("report");
    assert_eq!(r.t.len(), 30);
    assert_eq!(
        at_bucket(&r, "books_completed", "", "2026-03-27T23:00:00Z"),
        1.0,
        "Mar 28 (CET)"
    );
    assert_eq!(
        at_bucket(&r, "books_completed", "", "2026-03-28T23:00:00Z"),
        3.0,
        "Mar 29 (23 h)"
    );
    assert_eq!(
        at_bucket(&r, "books_completed", "", "2026-03-29T22:00:00Z"),
        1.0,
        "Mar 30 (CEST)"
    );
    let day29 = (t("2026-03-29T22:00:00Z") - t("2026-03-28T23:00:00Z")).num_hours();
    assert_eq!(day29, 23, "the DST day is 23 hours long");
    assert!(r.t.contains(&t("2026-03-28T23:00:00Z").timestamp()));
    assert_eq!(
        at_bucket(&r, "input_tokens", "anthropic/m1", "2026-03-28T23:00:00Z"),
        300.0
    );
    assert_eq!(
        at_bucket(&r, "input_tokens", "anthropic/m2", "2026-03-28T23:00:00Z"),
        700.0
    );
    assert_eq!(
        at_bucket(&r, "output_tokens", "anthropic/m2", "2026-03-28T23:00:00Z"),
        70.0
    );
    assert_eq!(
        at_bucket(&r, "llm_errors", "rate_limited", "2026-03-28T23:00:00Z"),
        1.0
    );
    assert_eq!(
        at_bucket(&r, "llm_error_rate", "", "2026-03-28T23:00:00Z"),
        0.25
    );
    let p50 = at_bucket(&r, "latency_p50_ms", "", "2026-03-28T23:00:00Z");
    assert!(
        (100.0..=125.0).contains(&p50),
        "p50 in the 100–125 ms bin: {p50}"
    );
    let p95 = at_bucket(&r, "latency_p95_ms", "", "2026-03-28T23:00:00Z");
    assert!(
        (5_000.0..=6_000.0).contains(&p95),
        "p95 in the 5–6 s bin: {p95}"
    );
    // 23:30 UTC on Mar 29 is Mar 30 in Madrid.
    assert_eq!(at_bucket(&r, "words", "", "2026-03-28T23:00:00Z"), 700.0);
    assert_eq!(at_bucket(&r, "words", "", "2026-03-29T22:00:00Z"), 300.0);
    let total = |name: &str| {
        r.series
            .iter()
            .find(|l| l.name == name)
            .and_then(|l| l.total)
    };
    assert_eq!(
        total("books_completed"),
        Some(5.0),
        "Mar 5 is outside the 30 days"
    );
    assert_eq!(total("llm_error_rate"), Some(0.25));

    let utc = chrono_tz::UTC;
    let r = analytics::admin_report(&mut c, Range::Month, utc, None, now).expect("report");
    assert_eq!(
        at_bucket(&r, "books_completed", "", "2026-03-28T00:00:00Z"),
        2.0
    );
    assert_eq!(
        at_bucket(&r, "books_completed", "", "2026-03-29T00:00:00Z"),
        3.0
    );
    assert_eq!(
        at_bucket(&r, "books_completed", "", "2026-03-30T00:00:00Z"),
        0.0
    );
    assert_eq!(at_bucket(&r, "words", "", "2026-03-29T00:00:00Z"), 1000.0);

    // Hours of the 24 h range hold the right calls.
    let r = analytics::admin_report(
        &mut c,
        Range::Day,
        madrid,
        Some("llm_calls"),
        t("2026-03-29T12:30:00Z"),
    )
    .expect("report");
    assert_eq!(
        r.series.iter().map(|l| l.name).collect::<Vec<_>>(),
        ["llm_calls", "llm_calls"]
    );
    assert_eq!(
        at_bucket(&r, "llm_calls", "anthropic/m1", "2026-03-29T12:00:00Z"),
        2.0
    );
    assert_eq!(
        at_bucket(&r, "llm_calls", "anthropic/m2", "2026-03-29T12:00:00Z"),
        2.0
    );
}

#[actix_web::test]
async fn minute_series_and_gauges_from_two_nodes() {
    let app = spawn_web_app().await;
    let owner = member(&app).await;
    let now = Utc::now();
    let minute = now.timestamp() - now.timestamp().rem_euclid(60);
    let when = DateTime::from_timestamp(minute - 120, 5)
        .expect("t")
        .to_rfc3339();
    completed_book(&app, &owner.id, &when, &when);
    let mut c = app.db();
    rollup::rebuild(&mut c, 60, minute - 3600, minute + 60).expect("rebuild");
    let g = |node: &str, n: usize| rollup::gauge_rows(minute, node, 3, n, &[]);
    for row in g("a", 4).iter().chain(&g("b", 6)).chain(&g("a", 2)) {
        buko::db::repo::analytics::record_gauge(&mut c, row).expect("gauge");
    }
    let r =
        analytics::admin_report(&mut c, Range::Hour, chrono_tz::UTC, None, now).expect("report");
    let i = r.t.iter().position(|b| *b == minute - 120).expect("bucket");
    assert_eq!(values(&r, "books_completed", "")[i], 1.0);
    let last = r.t.len() - 1;
    // Node a's peak (4) plus node b's (6); online users are global, so the highest report counts.
    assert_eq!(values(&r, "ws_connections", "")[last], 10.0);
    assert_eq!(values(&r, "online_users", "")[last], 3.0);
    assert_eq!(values(&r, "queue_depth", "book")[last], 0.0);
    // The live update's slots are what the page diffs against.
    let recent: Vec<&RollupRow> = r
        .recent
        .iter()
        .filter(|p| p.series == "ws_connections")
        .collect();
    for node in ["|a", "|b"] {
        assert!(recent.iter().any(|p| p.dim == node), "{recent:?}");
    }
}

#[actix_web::test]
async fn only_admins_read_the_admin_series() {
    let app = spawn_web_app().await;
    let user = member(&app).await;
    for path in [
        "/admin/analytics",
        "/admin/analytics.json?range=24h",
        "/admin/analytics.csv",
    ] {
        assert_eq!(user.client.get(path).await.status, 403, "{path}");
    }
    let boss = admin(&app).await;
    let page = boss.client.get("/admin/analytics?range=7d").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("/static/uplot.min.js") && page.body.contains("chart-books"));
    let nav = boss.client.get("/admin").await;
    assert!(
        nav.body.contains("href=\"/admin/analytics\""),
        "linked from the admin nav"
    );
    let json = boss
        .client
        .get("/admin/analytics.json?range=1h&tz=America/Santiago&series=books_completed,latency_p95_ms")
        .await;
    assert_eq!(json.status, 200, "{}", json.body);
    let v = json.json();
    assert_eq!(v["bucket"], "minute");
    assert_eq!(v["t"].as_array().map(Vec::len), Some(60));
    assert_eq!(v["tz"], "America/Santiago");
    for bad in ["range=2h", "tz=Not/AZone", "series=nope"] {
        let res = boss
            .client
            .get(&format!("/admin/analytics.json?{bad}"))
            .await;
        assert_eq!(res.status, 400, "{bad}: {}", res.body);
    }
    let csv = boss
        .client
        .get("/admin/analytics.csv?range=24h&tz=Europe/Madrid")
        .await;
    assert_eq!(csv.status, 200);
    let mut lines = csv.body.lines();
    let header = lines.next().unwrap_or_default();
    assert!(
        header.starts_with("bucket_start,books_started,books_completed"),
        "{header}"
    );
    assert!(
        header.contains("latency_p95_ms") && header.contains("queue_depth[book]"),
        "{header}"
    );
    assert_eq!(lines.count(), 24);
}

#[actix_web::test]
async fn an_author_history_holds_only_their_own_books() {
    let app = spawn_web_app().await;
    let a = author(&app).await;
    let b = author(&app).await;
    let (ida, idb) = (a.user_id(&app), b.user_id(&app));
    let now = Utc::now();
    let yesterday = (now - chrono::Duration::days(1)).to_rfc3339();
    let hour_ago = (now - chrono::Duration::hours(1)).to_rfc3339();
    let mine = completed_book(&app, &ida, &yesterday, &hour_ago);
    let theirs = completed_book(&app, &idb, &yesterday, &hour_ago);
    call(&app, &mine, &ida, "m1", &hour_ago, (1000, 100), 100, true);
    call(&app, &theirs, &idb, "m1", &hour_ago, (5000, 500), 100, true);
    chunk(&app, &mine, 1, 1234, &hour_ago);
    chunk(&app, &theirs, 1, 9999, &hour_ago);

    let res = a
        .api("GET", "/api/v1/usage/history?range=30d&tz=UTC", None)
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let h = res.json();
    let ids: Vec<&str> = h["books"]
        .as_array()
        .expect("books")
        .iter()
        .filter_map(|b| b["id"].as_str())
        .collect();
    assert_eq!(ids, [mine.as_str()]);
    assert_eq!(h["totals"]["words"], 1234);
    assert_eq!(h["totals"]["input_tokens"], 1000);
    assert_eq!(h["totals"]["books_completed"], 1);
    assert_eq!(h["books"][0]["time_to_finish_secs"], 23 * 3600);
    assert_eq!(h["months"].as_array().map(Vec::len), Some(12));
    assert_eq!(h["days"].as_array().map(Vec::len), Some(30));
    for bad in ["range=1h", "tz=Nowhere"] {
        let res = a
            .api("GET", &format!("/api/v1/usage/history?{bad}"), None)
            .await;
        assert_eq!(res.status, 400, "{bad}");
        assert_eq!(res.json()["error"], "bad_request");
    }
    // The page shows the same, in the author's language, and is linked from the library.
    let page = a.client.get("/usage?range=7d&tz=Europe/Madrid").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("1,234") && !page.body.contains("9,999"),
        "own words only"
    );
    assert!(a
        .client
        .get("/books")
        .await
        .body
        .contains("href=\"/usage\""));
    // Switching the language the way the footer's form does.
    let token = a.client.csrf("/usage").await;
    let res = a
        .client
        .post_form(
            "/language",
            &[("csrf_token", &token), ("lang", "es"), ("next", "/usage")],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let page = a.client.get("/usage").await;
    assert!(
        page.body.contains("Tu escritura") && page.body.contains("1234"),
        "Spanish page"
    );
}
