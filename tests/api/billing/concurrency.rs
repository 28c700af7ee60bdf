//! Two nodes sharing one database receive the same webhook ten times at once (and, at the same time,
//! distinct payment events about the same subscription): one stored event, one plan change, one
//! audit row.

use super::fake::*;
use super::*;
use crate::helpers::{author, spawn_app_with, Client};

#[actix_web::test]
async fn the_same_webhook_ten_times_on_two_nodes_changes_the_plan_once() {
    let (fake_base, _fake) = spawn_payments_fake().await;
    let a_node = spawn_billing_app(&fake_base).await;
    let (url, p) = (a_node.database_url.clone(), payment_settings(&fake_base));
    let b_node = spawn_app_with(move |s| {
        s.database_url = buko::secret::Secret::new(url);
        s.payments = p;
    })
    .await;
    let a = author(&a_node).await;
    let uid = a.user_id(&a_node);
    let approve = api_checkout(&a, "pro", "paypal").await;
    assert_eq!(
        Client::for_base(&fake_base)
            .get(&approve[fake_base.len()..])
            .await
            .status,
        200
    );
    let sub = approve.rsplit('=').next().expect("id").to_string();

    let activated = paypal_event("WH-SAME", "BILLING.SUBSCRIPTION.ACTIVATED", &sub);
    let sales: Vec<_> = (0..4)
        .map(|i| paypal_event(&format!("WH-SALE-{i}"), "PAYMENT.SALE.COMPLETED", &sub))
        .collect();
    let mut sends = vec![];
    for i in 0..10 {
        let node = if i % 2 == 0 {
            &a_node.base
        } else {
            &b_node.base
        };
        sends.push(send_paypal(node, &activated, GOOD_SIG));
    }
    for (i, e) in sales.iter().enumerate() {
        let node = if i % 2 == 0 {
            &b_node.base
        } else {
            &a_node.base
        };
        sends.push(send_paypal(node, e, GOOD_SIG));
    }
    let results = futures_util::future::join_all(sends).await;
    assert!(
        results.iter().all(|r| r.status == 200),
        "{:?}",
        results
            .iter()
            .map(|r| (r.status, r.body.clone()))
            .collect::<Vec<_>>()
    );
    let accepted = results[..10]
        .iter()
        .filter(|r| r.json()["status"] == "accepted")
        .count();
    assert_eq!(accepted, 1, "one delivery stored, nine duplicates");
    wait_events_done(&a_node).await;
    wait_plan(&a_node, &uid, "pro").await;
    let stored = events(&a_node);
    assert_eq!(
        stored.iter().filter(|e| e.0 == "WH-SAME").count(),
        1,
        "{stored:?}"
    );
    assert_eq!(stored.len(), 5);
    assert_eq!(
        plan_changes(&a_node, &uid),
        vec![("free".into(), "pro".into(), "subscription".into())],
        "one plan change, one audit row"
    );
    // Redelivered later, after processing: still nothing new.
    assert_eq!(
        send_paypal(&b_node.base, &activated, GOOD_SIG).await.json()["status"],
        "duplicate"
    );
    assert_eq!(plan_changes(&a_node, &uid).len(), 1);
}
