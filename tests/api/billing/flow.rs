//! The whole subscription flow: a free author hits the hourly quota, opens `/billing`, chooses Pro
//! with PayPal, is redirected to the provider's approval page, the webhook makes the plan Pro and the
//! fourth outline of the hour is admitted; cancelling keeps Pro until the paid period ends, then the
//! author is back on Free. Also Mercado Pago through the API.

use buko::db::schema::subscriptions;
use diesel::prelude::*;
use serde_json::json;

use super::fake::*;
use super::*;
use crate::helpers::{author, create_book_via_api, Client};

#[actix_web::test]
async fn free_author_upgrades_to_pro_with_paypal_cancels_and_is_back_on_free_at_period_end() {
    let (fake_base, fake) = spawn_payments_fake().await;
    let app = spawn_billing_app(&fake_base).await;
    let a = author(&app).await;
    let uid = a.user_id(&app);
    for i in 0..3 {
        create_book_via_api(&a, &format!("Idea {i}")).await;
    }
    let refused = a
        .api("POST", "/api/v1/books", Some(json!({"idea": "fourth"})))
        .await;
    assert_eq!(refused.status, 429, "free plan: 3 outlines an hour");

    // The billing page, reached from the navigation.
    assert!(a
        .client
        .get("/books")
        .await
        .body
        .contains("href=\"/billing\""));
    let page = a.client.get("/billing").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("data-plan=\"free\""), "{}", page.body);
    assert!(
        page.body.contains("id=\"outlines-left\">0<"),
        "used up this hour"
    );
    assert!(page.body.contains("data-checkout=\"pro-paypal\""));
    assert!(page.body.contains("data-checkout=\"studio-mercadopago\""));
    assert!(!page.body.contains("id=\"no-providers\""));

    // Choose Pro with PayPal: redirected to the provider's approval page.
    let token = crate::helpers::csrf_in(&page.body).expect("csrf");
    let res = a
        .client
        .post_form(
            "/billing/checkout",
            &[
                ("csrf_token", &token),
                ("plan", "pro"),
                ("provider", "paypal"),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let approve = res.header("location").expect("location").to_string();
    assert!(
        approve.starts_with(&format!("{fake_base}/paypal/approve?ba_token=I-FAKE")),
        "{approve}"
    );
    assert!(
        res.header("content-security-policy")
            .unwrap_or("")
            .contains(&fake_base),
        "form-action allows the provider"
    );
    let sub_id = approve.rsplit('=').next().expect("id").to_string();
    let sub = with(&fake, |s| s.paypal.get(&sub_id).cloned()).expect("created at the fake");
    assert_eq!(
        sub["custom_id"],
        uid.as_str(),
        "our user id travels as custom_id"
    );
    assert_eq!(sub["plan_id"], PAYPAL_PRO);
    assert_eq!(
        user_plan(&app, &uid),
        "free",
        "nothing changes before the provider confirms"
    );

    // The payer approves at PayPal; PayPal sends the webhook.
    let approved = Client::for_base(&fake_base)
        .get(&approve[fake_base.len()..])
        .await;
    assert_eq!(approved.status, 200);
    let res = send_paypal(
        &app.base,
        &paypal_event("WH-1", "BILLING.SUBSCRIPTION.ACTIVATED", &sub_id),
        GOOD_SIG,
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.json()["status"], "accepted");
    wait_plan(&app, &uid, "pro").await;

    // The plan shows everywhere and the quota reads it.
    let usage = a.api("GET", "/api/v1/usage", None).await.json();
    assert_eq!(usage["plan"], "pro");
    assert_eq!(usage["limits"]["architectures_per_hour"], 30);
    let billing = a.api("GET", "/api/v1/billing", None).await.json();
    assert_eq!(billing["status"], "active");
    assert_eq!(billing["provider"], "paypal");
    assert!(billing["renews_at"].is_string(), "{billing}");
    let fourth = a
        .api(
            "POST",
            "/api/v1/books",
            Some(json!({"idea": "fourth, now on Pro"})),
        )
        .await;
    assert_eq!(fourth.status, 202, "{}", fourth.body);

    // Cancel from the page: still Pro until the paid period ends.
    let page = a.client.get("/billing").await;
    assert!(page.body.contains("id=\"cancel-subscription\""));
    assert!(page.body.contains("data-plan=\"pro\""));
    let token = crate::helpers::csrf_in(&page.body).expect("csrf");
    let res = a
        .client
        .post_form("/billing/cancel", &[("csrf_token", &token)])
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(
        with(&fake, |s| s.paypal[&sub_id]["status"].clone()),
        "CANCELLED"
    );
    let res = send_paypal(
        &app.base,
        &paypal_event("WH-2", "BILLING.SUBSCRIPTION.CANCELLED", &sub_id),
        GOOD_SIG,
    )
    .await;
    assert_eq!(res.status, 200);
    wait_events_done(&app).await;
    assert_eq!(user_plan(&app, &uid), "pro", "paid until the period ends");
    let billing = a.api("GET", "/api/v1/billing", None).await.json();
    assert_eq!(billing["status"], "cancelled");
    assert!(billing["ends_at"].is_string(), "{billing}");

    // The period ends.
    diesel::update(subscriptions::table.filter(subscriptions::user_id.eq(&uid)))
        .set(
            subscriptions::current_period_end
                .eq(Some(buko::db::now() - chrono::Duration::minutes(1))),
        )
        .execute(&mut app.db())
        .expect("period end");
    let page = a.client.get("/billing").await;
    assert!(page.body.contains("data-plan=\"free\""), "back on free");
    assert_eq!(user_plan(&app, &uid), "free");
    let changes = plan_changes(&app, &uid);
    assert_eq!(
        changes,
        vec![
            ("free".into(), "pro".into(), "subscription".into()),
            ("pro".into(), "free".into(), "period_end".into()),
        ]
    );
    assert!(
        page.body.contains("free → pro") && page.body.contains("pro → free"),
        "history shown"
    );
    // Four outlines already this hour: free again, the fifth is refused.
    let fifth = a
        .api("POST", "/api/v1/books", Some(json!({"idea": "fifth"})))
        .await;
    assert_eq!(fifth.status, 429);
}

#[actix_web::test]
async fn mercadopago_checkout_through_the_api_and_a_signed_notification_make_the_plan_studio() {
    let (fake_base, fake) = spawn_payments_fake().await;
    let app = spawn_billing_app(&fake_base).await;
    let a = author(&app).await;
    let uid = a.user_id(&app);
    let url = api_checkout(&a, "studio", "mercadopago").await;
    assert!(
        url.starts_with(&format!("{fake_base}/mp/checkout?preapproval_id=")),
        "{url}"
    );
    let pa = url.rsplit('=').next().expect("id").to_string();
    let created = with(&fake, |s| s.preapprovals[&pa].clone());
    assert_eq!(created["external_reference"], uid.as_str());
    assert_eq!(created["preapproval_plan_id"], MP_STUDIO);
    assert_eq!(created["payer_email"], a.email.as_str());

    // Pro is not sold through Mercado Pago without a plan id... but has a price: auto_recurring.
    let again = a
        .api(
            "POST",
            "/api/v1/billing/checkout",
            Some(json!({"plan": "pro", "provider": "mercadopago"})),
        )
        .await;
    assert_eq!(
        again.status, 200,
        "a pending checkout does not block another"
    );

    assert_eq!(
        Client::for_base(&fake_base)
            .get(&url[fake_base.len()..])
            .await
            .status,
        200
    );
    let now = chrono::Utc::now().timestamp();
    let res = send_mp(
        &app.base,
        9001,
        "subscription_preapproval",
        &pa,
        MP_SECRET,
        now,
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    wait_plan(&app, &uid, "studio").await;
    assert_eq!(
        a.api("GET", "/api/v1/usage", None).await.json()["plan"],
        "studio"
    );

    // An active subscription blocks a second checkout.
    let third = a
        .api(
            "POST",
            "/api/v1/billing/checkout",
            Some(json!({"plan": "pro", "provider": "paypal"})),
        )
        .await;
    assert_eq!(third.status, 409, "{}", third.body);
    // Bad input: unknown plan / provider, the free plan.
    for (plan, provider, status) in [
        ("gold", "paypal", 422),
        ("pro", "bitcoin", 422),
        ("free", "paypal", 422),
    ] {
        let r = a
            .api(
                "POST",
                "/api/v1/billing/checkout",
                Some(json!({"plan": plan, "provider": provider})),
            )
            .await;
        assert_eq!(r.status, status, "{plan}/{provider}: {}", r.body);
        assert!(r.json()["error"].is_string());
    }
}

#[actix_web::test]
async fn without_a_provider_the_billing_page_says_so_and_checkout_is_a_clear_conflict() {
    let app = crate::helpers::spawn_app().await;
    let a = author(&app).await;
    let page = a.client.get("/billing").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("id=\"no-providers\""));
    assert!(!page.body.contains("data-checkout="));
    let res = a
        .api(
            "POST",
            "/api/v1/billing/checkout",
            Some(json!({"plan": "pro", "provider": "paypal"})),
        )
        .await;
    assert_eq!(res.status, 409, "{}", res.body);
    // Spanish.
    let token = crate::helpers::csrf_in(&page.body).expect("csrf");
    a.client
        .post_form(
            "/settings/language",
            &[("csrf_token", &token), ("lang", "es")],
        )
        .await;
    let page = a.client.get("/billing").await;
    assert!(page.body.contains("Plan y facturación"), "{}", page.body);
    // Webhooks for unconfigured providers: nothing listens.
    let r = send_paypal(
        &app.base,
        &paypal_event("WH-9", "BILLING.SUBSCRIPTION.ACTIVATED", "I-1"),
        GOOD_SIG,
    )
    .await;
    assert_eq!(r.status, 404);
}
