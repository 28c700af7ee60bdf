//! Bad webhook input changes no plan and never loops on 5xx: unsigned, wrongly signed, replayed
//! (old `ts`), malformed JSON, unknown types, unknown subscriptions, a 1 MB body, and a provider that
//! answers 500 while verifying (the event is kept and acted on once the provider recovers). Events
//! arriving out of order act on the subscription's current state.

use serde_json::json;

use super::fake::*;
use super::*;
use crate::helpers::{author, Client};

/// A user with an approved PayPal subscription to Pro that has not been confirmed by webhook yet.
async fn approved_paypal(
    app: &TestApp,
    fake_base: &str,
) -> (crate::helpers::Author, String, String) {
    let a = author(app).await;
    let uid = a.user_id(app);
    let url = api_checkout(&a, "pro", "paypal").await;
    assert_eq!(
        Client::for_base(fake_base)
            .get(&url[fake_base.len()..])
            .await
            .status,
        200
    );
    (a, uid, url.rsplit('=').next().expect("id").to_string())
}

#[actix_web::test]
async fn bad_paypal_deliveries_change_nothing_and_a_failing_verifier_only_delays() {
    let (fake_base, fake) = spawn_payments_fake().await;
    let app = spawn_billing_app(&fake_base).await;
    let (_a, uid, sub) = approved_paypal(&app, &fake_base).await;
    let ev = paypal_event("WH-A", "BILLING.SUBSCRIPTION.ACTIVATED", &sub);

    // Unsigned: no transmission headers.
    let r = post_webhook(
        &app.base,
        "/webhooks/paypal",
        &[],
        ev.to_string().into_bytes(),
    )
    .await;
    assert_eq!(r.status, 401, "{}", r.body);
    // Malformed JSON.
    let r = post_webhook(
        &app.base,
        "/webhooks/paypal",
        &paypal_headers(GOOD_SIG),
        b"{not json".to_vec(),
    )
    .await;
    assert_eq!(r.status, 400);
    // An event without an id.
    let r = send_paypal(
        &app.base,
        &json!({"event_type": "BILLING.SUBSCRIPTION.ACTIVATED"}),
        GOOD_SIG,
    )
    .await;
    assert_eq!(r.status, 400);
    // Unknown type: ignored, not stored.
    let r = send_paypal(
        &app.base,
        &paypal_event("WH-X", "CHECKOUT.ORDER.APPROVED", &sub),
        GOOD_SIG,
    )
    .await;
    assert_eq!(
        (r.status, r.json()["status"].clone()),
        (200, json!("ignored"))
    );
    // A 1 MB body.
    let big = vec![b' '; 1024 * 1024];
    let r = post_webhook(
        &app.base,
        "/webhooks/paypal",
        &paypal_headers(GOOD_SIG),
        big,
    )
    .await;
    assert_eq!(r.status, 413);
    // Wrongly signed: PayPal answers FAILURE; the event is rejected.
    let forged = paypal_event("WH-FORGED", "BILLING.SUBSCRIPTION.ACTIVATED", &sub);
    assert_eq!(
        send_paypal(&app.base, &forged, "forged-sig").await.status,
        200
    );
    wait_events_done(&app).await;
    assert_eq!(user_plan(&app, &uid), "free");
    // An event about a subscription nobody here has.
    let stranger = paypal_event("WH-S", "BILLING.SUBSCRIPTION.ACTIVATED", "I-UNKNOWN");
    with(&fake, |s| {
        s.paypal.insert(
            "I-UNKNOWN".into(),
            json!({"id": "I-UNKNOWN", "status": "ACTIVE", "plan_id": PAYPAL_PRO, "custom_id": uid}),
        )
    });
    assert_eq!(
        send_paypal(&app.base, &stranger, GOOD_SIG).await.status,
        200
    );
    wait_events_done(&app).await;
    assert_eq!(user_plan(&app, &uid), "free");
    let stored = events(&app);
    assert!(
        stored.contains(&(
            "WH-FORGED".into(),
            "rejected".into(),
            "PayPal did not verify the signature".into()
        )),
        "{stored:?}"
    );
    assert!(
        stored.contains(&(
            "WH-S".into(),
            "ignored".into(),
            "unknown subscription".into()
        )),
        "{stored:?}"
    );
    assert!(
        !stored.iter().any(|e| e.0 == "WH-X"),
        "unknown types are not stored"
    );

    // PayPal's verifier fails: answered 200 at once, kept, and acted on when PayPal recovers.
    with(&fake, |s| s.verify_fault = Some(500));
    let r = send_paypal(&app.base, &ev, GOOD_SIG).await;
    assert_eq!(r.status, 200, "never a 5xx for the provider's trouble");
    let before = with(&fake, |s| s.verify_calls);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while with(&fake, |s| s.verify_calls) == before {
        assert!(
            std::time::Instant::now() < deadline,
            "the verification was never tried"
        );
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(user_plan(&app, &uid), "free");
    assert!(
        events(&app)
            .iter()
            .any(|e| e.0 == "WH-A" && e.1 == "received"),
        "kept for a retry"
    );
    with(&fake, |s| s.verify_fault = None);
    // The job's backoff may be long; a redelivery by PayPal is a duplicate, the queue retries.
    let r = send_paypal(&app.base, &ev, GOOD_SIG).await;
    assert_eq!(r.json()["status"], "duplicate");
    let event_id = {
        use buko::db::schema::billing_events;
        use diesel::prelude::*;
        billing_events::table
            .filter(billing_events::event_id.eq("WH-A"))
            .select(billing_events::id)
            .first::<String>(&mut app.db())
            .expect("stored")
    };
    // What the retried job does (run here rather than waiting out the backoff).
    let settings = {
        let mut s = crate::helpers::test_settings(app.data_dir.path()).0;
        s.database_url = buko::secret::Secret::new(app.database_url.clone());
        s.payments = payment_settings(&fake_base);
        s
    };
    let pool = buko::db::build_pool(&app.database_url, 2).expect("pool");
    buko::billing::job::process(&pool, &settings, &event_id)
        .await
        .expect("processed");
    assert_eq!(user_plan(&app, &uid), "pro");
    // The forged event's body said plan P-FORGED and another user: only the fetched resource counted.
    assert_eq!(
        plan_changes(&app, &uid),
        vec![("free".into(), "pro".into(), "subscription".into())]
    );
}

#[actix_web::test]
async fn bad_mercadopago_signatures_are_refused_and_late_events_act_on_the_current_state() {
    let (fake_base, fake) = spawn_payments_fake().await;
    let app = spawn_billing_app(&fake_base).await;
    let a = author(&app).await;
    let uid = a.user_id(&app);
    let url = api_checkout(&a, "studio", "mercadopago").await;
    let pa = url.rsplit('=').next().expect("id").to_string();
    with(&fake, |s| {
        s.preapprovals
            .get_mut(&pa)
            .map(|v| v["status"] = json!("authorized"))
    });
    let now = chrono::Utc::now().timestamp();
    let kind = "subscription_preapproval";

    assert_eq!(
        send_mp(&app.base, 1, kind, &pa, "wrong-secret", now)
            .await
            .status,
        401,
        "wrongly signed"
    );
    assert_eq!(
        send_mp(&app.base, 2, kind, &pa, MP_SECRET, now - 3600)
            .await
            .status,
        401,
        "replayed (old ts)"
    );
    let unsigned = post_webhook(
        &app.base,
        &format!("/webhooks/mercadopago?data.id={pa}"),
        &[],
        json!({"id": 3, "type": kind, "data": {"id": pa}})
            .to_string()
            .into_bytes(),
    )
    .await;
    assert_eq!(unsigned.status, 401);
    let malformed = post_webhook(
        &app.base,
        "/webhooks/mercadopago",
        &[
            ("x-signature", "ts=1,v1=00".into()),
            ("x-request-id", "r".into()),
        ],
        b"[1,".to_vec(),
    )
    .await;
    assert_eq!(malformed.status, 400);
    let other = send_mp(&app.base, 4, "merchant_order", &pa, MP_SECRET, now).await;
    assert_eq!(
        (other.status, other.json()["status"].clone()),
        (200, json!("ignored"))
    );
    assert!(events(&app).is_empty(), "nothing stored");
    assert_eq!(user_plan(&app, &uid), "free");

    // The payer cancels at Mercado Pago before the "authorized" notification is delivered: the late
    // notification acts on what the preapproval says now.
    with(&fake, |s| {
        let v = s.preapprovals.get_mut(&pa).expect("pa");
        v["status"] = json!("cancelled");
        v["next_payment_date"] =
            json!((chrono::Utc::now() - chrono::Duration::days(1)).to_rfc3339());
    });
    assert_eq!(
        send_mp(&app.base, 5, kind, &pa, MP_SECRET, now)
            .await
            .status,
        200
    );
    wait_events_done(&app).await;
    assert_eq!(
        user_plan(&app, &uid),
        "free",
        "a late authorized event did not grant Studio"
    );

    // A payment notification: the payment names the user; their preapproval is read.
    with(&fake, |s| {
        s.preapprovals.get_mut(&pa).expect("pa")["status"] = json!("authorized");
        s.preapprovals.get_mut(&pa).expect("pa")["next_payment_date"] =
            json!((chrono::Utc::now() + chrono::Duration::days(30)).to_rfc3339());
        s.payments.insert("777".into(), json!({"id": 777, "status": "approved", "external_reference": uid, "transaction_amount": 0.01}));
    });
    assert_eq!(
        send_mp(&app.base, 6, "payment", "777", MP_SECRET, now)
            .await
            .status,
        200
    );
    wait_plan(&app, &uid, "studio").await;
}
