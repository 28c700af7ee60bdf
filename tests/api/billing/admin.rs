//! The admin's view of billing: the subscriptions list, one subscription with its raw verified
//! events, a manual plan change (audited, visible to the user), and the plans editor.

use super::fake::*;
use super::*;
use crate::admin::{act, admin};
use crate::helpers::{author, Client};

#[actix_web::test]
async fn admins_see_subscriptions_and_events_change_plans_by_hand_and_edit_plans() {
    let (fake_base, _fake) = spawn_payments_fake().await;
    let app = spawn_billing_app(&fake_base).await;
    let boss = admin(&app).await;
    let a = author(&app).await;
    let uid = a.user_id(&app);
    let approve = api_checkout(&a, "pro", "paypal").await;
    Client::for_base(&fake_base)
        .get(&approve[fake_base.len()..])
        .await;
    let sub = approve.rsplit('=').next().expect("id").to_string();
    send_paypal(
        &app.base,
        &paypal_event("WH-ADM", "BILLING.SUBSCRIPTION.ACTIVATED", &sub),
        GOOD_SIG,
    )
    .await;
    wait_plan(&app, &uid, "pro").await;

    // Authors cannot see it.
    assert_eq!(a.client.get("/admin/subscriptions").await.status, 403);
    let list = boss.client.get("/admin/subscriptions").await;
    assert_eq!(list.status, 200);
    assert!(
        list.body.contains(&a.email) && list.body.contains("BILLING.SUBSCRIPTION.ACTIVATED"),
        "{}",
        list.body
    );
    let our_id = {
        use buko::db::schema::subscriptions;
        use diesel::prelude::*;
        subscriptions::table
            .filter(subscriptions::user_id.eq(&uid))
            .select(subscriptions::id)
            .first::<String>(&mut app.db())
            .expect("sub")
    };
    let detail = boss
        .client
        .get(&format!("/admin/subscriptions/{our_id}"))
        .await;
    assert_eq!(detail.status, 200);
    assert!(
        detail.body.contains("WH-ADM") && detail.body.contains("processed"),
        "{}",
        detail.body
    );
    assert_eq!(
        boss.client.get("/admin/subscriptions/nope").await.status,
        404
    );

    // A manual plan change is audited and the author sees it.
    let res = act(
        &boss,
        &format!("/admin/users/{uid}/plan"),
        &[("value", "studio")],
    )
    .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let res = act(
        &boss,
        &format!("/admin/users/{uid}/plan"),
        &[("value", "platinum")],
    )
    .await;
    assert_eq!(res.status, 422);
    assert_eq!(user_plan(&app, &uid), "studio");
    let changes = plan_changes(&app, &uid);
    assert_eq!(
        changes.last(),
        Some(&("pro".into(), "studio".into(), "admin".into()))
    );
    assert!(a.client.get("/billing").await.body.contains("pro → studio"));

    // The plans editor: limits and provider plan ids.
    let page = boss.client.get("/admin/plans").await;
    assert!(
        page.body.contains(PAYPAL_PRO),
        "seeded from the environment"
    );
    let form = [
        ("name", "Pro"),
        ("public", "1"),
        ("architectures_per_hour", "7"),
        ("books_per_hour", "5"),
        ("books_per_month", "50"),
        ("max_pages", "500"),
        ("cover_candidates", "4"),
        ("paypal_price_cents", "1500"),
        ("paypal_currency", "usd"),
        ("paypal_plan_id", "P-NEW"),
        ("mercadopago_price_cents", "0"),
        ("mercadopago_currency", "ARS"),
        ("mercadopago_plan_id", ""),
    ];
    let res = act(&boss, "/admin/plans/pro", &form).await;
    assert_eq!(res.status, 303, "{}", res.body);
    let pro = buko::db::repo::plans::get(&mut app.db(), "pro")
        .expect("q")
        .expect("pro");
    assert_eq!(
        (
            pro.architectures_per_hour,
            pro.paypal_currency.as_str(),
            pro.paypal_plan_id.as_deref()
        ),
        (7, "USD", Some("P-NEW"))
    );
    let mut bad = form;
    bad[5] = ("max_pages", "5");
    assert_eq!(act(&boss, "/admin/plans/pro", &bad).await.status, 422);
    assert_eq!(act(&boss, "/admin/plans/gold", &form).await.status, 404);
}
