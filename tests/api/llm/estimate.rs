//! The estimate shown before approval against what writing the book then cost, on `buko fake-llm`
//! (a model that writes the words it is asked for: `--length-ratio 1`, summaries of `--words 342`),
//! priced as Claude Sonnet 4.5 with prompt caching. Within ±15 % (figures in docs/PERFORMANCE.md).

use super::budget::{app_on_fake, chapters};
use super::helpers::spawn_fake;
use crate::helpers::{author, create_book_via_api, wait_book_status, TestApp};

/// What the writing (every call after the architecture) of the book cost.
fn writing_cost(app: &TestApp, book_id: &str) -> f64 {
    use buko::db::schema::llm_calls;
    use diesel::prelude::*;
    llm_calls::table
        .filter(llm_calls::book_id.eq(book_id))
        .filter(llm_calls::purpose.ne("architecture"))
        .select(llm_calls::cost_usd)
        .load::<f64>(&mut app.db())
        .expect("calls")
        .iter()
        .sum()
}

#[actix_web::test]
async fn the_estimate_is_within_15_percent_of_the_actual_cost() {
    let fake = spawn_fake(|o| {
        o.length_ratio = Some(1.0);
        o.words = 342;
    })
    .await;
    let app = app_on_fake(&fake).await;
    for (n, words) in [(4, 2500), (12, 900), (30, 400)] {
        // An author per book: the free plan's hourly book quota is two.
        let a = author(&app).await;
        let id = create_book_via_api(&a, "A beekeeper inherits a hive that keeps a diary").await;
        let book = wait_book_status(&a, &id, "architecture_ready").await;
        let res = a
            .api(
                "PUT",
                &format!("/api/v1/books/{id}/architecture"),
                Some(chapters(&book, n, words)),
            )
            .await;
        assert_eq!(res.status, 200, "{}", res.body);
        let book = a
            .api("GET", &format!("/api/v1/books/{id}"), None)
            .await
            .json();
        let estimate = book["estimate"]["usd"].as_f64().expect("estimate");
        let res = a
            .api(
                "POST",
                &format!("/api/v1/books/{id}/approve"),
                Some(serde_json::json!({"budget_usd": 50})),
            )
            .await;
        assert_eq!(res.status, 202, "{}", res.body);
        wait_book_status(&a, &id, "completed").await;
        let actual = writing_cost(&app, &id);
        println!(
            "{n} chapters × {words} words: estimate ${estimate:.4}, actual ${actual:.4}, \
             estimate / actual {:.3}",
            estimate / actual
        );
        assert!(
            (estimate - actual).abs() <= 0.15 * actual,
            "{n} × {words}: estimate {estimate} vs actual {actual}"
        );
    }
}
