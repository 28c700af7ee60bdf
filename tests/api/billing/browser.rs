//! The whole billing flow in headless Chromium, through the pages: a free author uses the hour's
//! outlines in the wizard, follows "see the plans" to `/billing`, chooses Pro with PayPal, lands on
//! the fake PayPal's approval page and returns; the signed webhook from PayPal makes the plan Pro and
//! a fourth outline is admitted in the wizard; cancelling (after a confirmation) keeps Pro until the
//! paid period ends, then the author is back on Free. Screenshots of `/billing`, desktop and phone.

use buko::db::schema::subscriptions;
use diesel::prelude::*;

use super::fake::*;
use super::*;
use crate::browser::Driver;
use crate::browser_studio::shots;
use crate::helpers::author;
use crate::studio_browser::{js, login};

async fn new_book(d: &Driver, base: &str, idea: &str) -> String {
    d.go(&format!("{base}/books/new")).await;
    d.type_into("textarea[name=idea]", idea).await;
    d.click("#wizard button[type=submit]").await;
    d.wait_url(|u| !u.ends_with("/books/new") && !u.ends_with("/books"))
        .await
}

#[actix_web::test]
async fn free_author_upgrades_to_pro_and_back_to_free_through_the_pages_in_chromium() {
    let Some(d) = Driver::start().await else {
        panic!("chromium / chromedriver missing: run scripts/install-browser.sh");
    };
    let (fake_base, fake) = spawn_payments_fake().await;
    let app = spawn_billing_app(&fake_base).await;
    let a = author(&app).await;
    let uid = a.user_id(&app);
    login(&d, &app.base, &a).await;

    // Free: three outlines this hour, through the wizard.
    for i in 0..3 {
        let url = new_book(&d, &app.base, &format!("A lighthouse story number {i}")).await;
        assert!(url.contains("/books/"), "{url}");
    }
    d.go(&format!("{}/books/new", app.base)).await;
    let blocked = d.text("#wizard-blocked").await;
    assert!(blocked.contains("in 59 minutes"), "{blocked}");
    d.click("#wizard-blocked a[href='/billing']").await;
    d.wait_url(|u| u.ends_with("/billing")).await;
    assert_eq!(d.text("[data-plan]").await, "Free");
    assert_eq!(d.text("#outlines-left").await, "0");
    shots(&d, &format!("{}/billing", app.base), "billing-free").await;
    crate::studio_browser::size(&d, 1280, 800).await;

    // Choose Pro with PayPal: the browser lands on the provider's approval page.
    d.click("button[data-checkout='pro-paypal']").await;
    let approve = d.wait_url(|u| u.contains("/paypal/approve")).await;
    assert!(approve.starts_with(&fake_base), "{approve}");
    let sub_id = approve.rsplit('=').next().expect("id").to_string();
    assert_eq!(
        with(&fake, |s| s.paypal[&sub_id]["custom_id"].clone()),
        uid.as_str()
    );
    // Approved at PayPal; back to Buko.
    d.click("#return").await;
    d.wait_url(|u| u.contains("/billing?returned=1")).await;

    // PayPal's signed webhook: the plan is Pro (once, however it arrives).
    let res = send_paypal(
        &app.base,
        &paypal_event("WH-B1", "BILLING.SUBSCRIPTION.ACTIVATED", &sub_id),
        GOOD_SIG,
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    wait_plan(&app, &uid, "pro").await;
    d.go(&format!("{}/billing", app.base)).await;
    assert_eq!(d.text("[data-plan]").await, "Pro");
    shots(&d, &format!("{}/billing", app.base), "billing-pro").await;
    crate::studio_browser::size(&d, 1280, 800).await;

    // The fourth outline of the hour is admitted.
    d.go(&format!("{}/books/new", app.base)).await;
    let enabled = js(
        &d,
        "return !document.querySelector('#wizard button[type=submit]').disabled;",
    )
    .await;
    assert_eq!(enabled, true);
    let url = new_book(&d, &app.base, "A fourth story, now on Pro").await;
    assert!(
        url.contains("/books/") && !url.contains("/books/new"),
        "admitted: {url}"
    );

    // Cancel, after a confirmation: still Pro until the paid period ends.
    d.go(&format!("{}/billing", app.base)).await;
    d.click("#cancel-subscription").await;
    let question = d.s("GET", "/alert/text", None).await;
    assert!(
        question.as_str().unwrap_or("").contains("paid period"),
        "{question}"
    );
    d.s("POST", "/alert/accept", Some(serde_json::json!({})))
        .await;
    d.wait_url(|u| u.contains("cancelled=1")).await;
    let res = send_paypal(
        &app.base,
        &paypal_event("WH-B2", "BILLING.SUBSCRIPTION.CANCELLED", &sub_id),
        GOOD_SIG,
    )
    .await;
    assert_eq!(res.status, 200);
    wait_events_done(&app).await;
    d.go(&format!("{}/billing", app.base)).await;
    assert_eq!(
        d.text("[data-plan]").await,
        "Pro",
        "paid until the period ends"
    );

    // The period ends (the subscription's clock, as in the other billing tests).
    diesel::update(subscriptions::table.filter(subscriptions::user_id.eq(&uid)))
        .set(
            subscriptions::current_period_end
                .eq(Some(buko::db::now() - chrono::Duration::minutes(1))),
        )
        .execute(&mut app.db())
        .expect("period end");
    d.go(&format!("{}/billing", app.base)).await;
    assert_eq!(d.text("[data-plan]").await, "Free", "back on Free");
    assert_eq!(user_plan(&app, &uid), "free");
    d.s("DELETE", "", None).await;
}
