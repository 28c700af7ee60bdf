//! Length that holds. Against `buko fake-llm --length-ratio 0.6` (a model that writes short) and `1.4`
//! (one that writes long), every chapter lands within ±10 % of its target: short answers are extended,
//! long ones cut at a sentence. And a 300-page book written by the offline writer exports as a PDF of
//! 285–315 pages (counted by `pdfinfo`), the page calibration at work.

use super::budget::{app_on_fake, chapters};
use super::helpers::spawn_fake;
use crate::helpers::{author, create_book_via_api, spawn_app, wait_book_status};

async fn chapters_hold_their_length(ratio: f64) {
    let fake = spawn_fake(|o| o.length_ratio = Some(ratio)).await;
    let app = app_on_fake(&fake).await;
    let a = author(&app).await;
    let id = create_book_via_api(&a, "A glassblower hears the sea inside her bottles").await;
    let book = wait_book_status(&a, &id, "architecture_ready").await;
    let res = a
        .api(
            "PUT",
            &format!("/api/v1/books/{id}/architecture"),
            Some(chapters(&book, 3, 1200)),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let res = a
        .api(
            "POST",
            &format!("/api/v1/books/{id}/approve"),
            Some(serde_json::json!({"budget_usd": 20})),
        )
        .await;
    assert_eq!(res.status, 202, "{}", res.body);
    wait_book_status(&a, &id, "completed").await;
    let chapters = a
        .api("GET", &format!("/api/v1/books/{id}/chapters"), None)
        .await
        .json();
    let chapters = chapters.as_array().expect("chapters");
    assert_eq!(chapters.len(), 3);
    for ch in chapters {
        let target = ch["target_words"].as_f64().expect("target_words");
        let words = ch["words"].as_f64().expect("words");
        assert!(
            (words - target).abs() <= 0.10 * target,
            "ratio {ratio}: chapter {} has {words} words for {target}",
            ch["position"]
        );
    }
    // The reader shows both.
    let page = a.client.get(&format!("/books/{id}/read")).await;
    let first = &chapters[0];
    assert!(
        page.body.contains(&format!(
            "{} / {} words",
            first["words"], first["target_words"]
        )),
        "{}",
        page.body
    );
}

#[actix_web::test]
async fn a_model_that_writes_short_is_extended_to_the_target() {
    chapters_hold_their_length(0.6).await;
}

#[actix_web::test]
async fn a_model_that_writes_long_is_cut_to_the_target() {
    chapters_hold_their_length(1.4).await;
}

#[actix_web::test]
async fn a_300_page_book_exports_as_about_300_pdf_pages() {
    let app = spawn_app().await;
    let a = author(&app).await;
    let res = a
        .api(
            "POST",
            "/api/v1/books",
            Some(
                serde_json::json!({"idea": "A cartographer maps a city that moves at night",
                "language": "en", "target_pages": 300}),
            ),
        )
        .await;
    assert_eq!(res.status, 202, "{}", res.body);
    let id = res.json()["id"].as_str().expect("id").to_string();
    wait_book_status(&a, &id, "architecture_ready").await;
    let res = a
        .api("POST", &format!("/api/v1/books/{id}/approve"), None)
        .await;
    assert_eq!(res.status, 202, "{}", res.body);
    wait_book_status(&a, &id, "completed").await;
    let mut res = awc::Client::default()
        .get(format!("{}/api/v1/books/{id}/export/pdf", app.base))
        .insert_header(("x-api-key", a.key.as_str()))
        .timeout(std::time::Duration::from_secs(120))
        .send()
        .await
        .expect("export");
    let status = res.status().as_u16();
    if status != 200 {
        let body = res.body().await.unwrap_or_default();
        panic!(
            "export answered {status}: {}\nserver errors:\n{}",
            String::from_utf8_lossy(&body),
            crate::helpers::server_errors()
        );
    }
    let pdf = res.body().limit(64 << 20).await.expect("pdf bytes");
    let path = app.data_dir.path().join("book.pdf");
    std::fs::write(&path, &pdf).expect("write pdf");
    let out = std::process::Command::new("pdfinfo")
        .arg(&path)
        .output()
        .expect("pdfinfo (poppler-utils) is installed");
    let info = String::from_utf8_lossy(&out.stdout);
    let pages: u32 = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("no page count: {info}"));
    println!("a 300-page book: {pages} PDF pages");
    assert!((285..=315).contains(&pages), "{pages} pages");
}
