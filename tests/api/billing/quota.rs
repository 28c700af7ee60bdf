//! Quotas read the user's plan from the `plans` table (an admin's edit applies at once), a longer
//! book than the plan allows is refused, and a book the AI provider fails gives its quota back.

use serde_json::json;

use crate::helpers::{
    author, create_book_via_api, make_ready, spawn_app_with, spawn_web_app, wait_book_status,
};

#[actix_web::test]
async fn quotas_follow_the_plan_row_and_its_page_limit() {
    let app = spawn_web_app().await;
    let a = author(&app).await;
    {
        use buko::db::schema::plans;
        use diesel::prelude::*;
        diesel::update(plans::table.find("free"))
            .set((plans::architectures_per_hour.eq(1), plans::max_pages.eq(30)))
            .execute(&mut app.db())
            .expect("edit plan");
    }
    let id = create_book_via_api(&a, "One").await;
    let second = a
        .api("POST", "/api/v1/books", Some(json!({"idea": "Two"})))
        .await;
    assert_eq!(
        second.status, 429,
        "the edited plan allows one outline an hour"
    );
    let usage = a.api("GET", "/api/v1/usage", None).await.json();
    assert_eq!(usage["limits"]["architectures_per_hour"], 1);
    assert_eq!(usage["limits"]["architectures_used_this_hour"], 1);
    assert_eq!(usage["limits"]["books_per_month"], 10);
    // The book asks for 20 pages: allowed; a 40-page one is not.
    make_ready(&app, &id).await;
    {
        use buko::db::schema::books;
        use diesel::prelude::*;
        diesel::update(books::table.find(&id))
            .set(books::target_pages.eq(40))
            .execute(&mut app.db())
            .expect("pages");
    }
    let res = a
        .api("POST", &format!("/api/v1/books/{id}/approve"), None)
        .await;
    assert_eq!(res.status, 422, "{}", res.body);
    assert!(res.body.contains("30 pages"), "{}", res.body);
    // The billing page shows used and left this hour and this month.
    let page = a.client.get("/billing").await;
    assert!(
        page.body.contains("id=\"outlines-left\">0<"),
        "{}",
        page.body
    );
}

#[actix_web::test]
async fn an_outline_the_provider_fails_gives_its_quota_back() {
    let fake = crate::llm::helpers::spawn_fake(|_| {}).await;
    let base = fake.clone();
    let app = spawn_app_with(move |s| {
        s.llm = buko::llm::LlmSettings::from_lookup(|k| match k {
            "BUKO_LLM_PROVIDER" => Some("anthropic".into()),
            "ANTHROPIC_BASE_URL" => Some(base.clone()),
            "ANTHROPIC_API_KEY" => Some("x".into()),
            _ => None,
        })
        .expect("anthropic settings");
    })
    .await;
    let a = author(&app).await;
    // The provider refuses the credentials: a permanent error, not the author's doing.
    crate::llm::helpers::script(&fake, json!([{ "fault": "unauthorized" }, { "fault": "unauthorized" }, { "fault": "unauthorized" }])).await;
    let id = create_book_via_api(&a, "A lighthouse that keeps the wrong time").await;
    wait_book_status(&a, &id, "failed").await;
    let usage = a.api("GET", "/api/v1/usage", None).await.json();
    assert_eq!(
        usage["limits"]["architectures_remaining"], 3,
        "given back: {usage}"
    );
    assert_eq!(usage["limits"]["architectures_used_this_hour"], 0);
}
