//! The author's credit (issue 13): the display name from settings and the book's pen name,
//! dedication and copyright line appear on the title and copyright pages of every export, as a
//! reader's tools see them (pdftotext, unzip); settings redirect after creating a key.

use std::process::Command;

use crate::helpers::{author, create_book_via_api, spawn_app, wait_book_status, Author, TestApp};

async fn download(app: &TestApp, a: &Author, id: &str, fmt: &str) -> Vec<u8> {
    let mut res = awc::Client::new()
        .get(format!("{}/api/v1/books/{id}/export/{fmt}", app.base))
        .insert_header(("x-api-key", a.key.as_str()))
        .send()
        .await
        .expect("download");
    assert_eq!(res.status().as_u16(), 200, "{fmt}");
    res.body()
        .limit(64 * 1024 * 1024)
        .await
        .expect("body")
        .to_vec()
}

fn tool(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .expect("tool runs (scripts/install-test-tools.sh)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[actix_web::test]
async fn the_author_credit_reaches_every_export_and_buko_is_not_the_author() {
    let app = spawn_app().await;
    let a = author(&app).await;
    let token = a.client.csrf("/settings").await;
    let res = a
        .client
        .post_form(
            "/settings/author",
            &[("csrf_token", &token), ("display_name", "Ana Pérez")],
        )
        .await;
    assert_eq!(res.status, 303);
    let id = create_book_via_api(&a, "A lighthouse keeper finds a letter").await;
    wait_book_status(&a, &id, "architecture_ready").await;
    a.api("POST", &format!("/api/v1/books/{id}/approve"), None)
        .await;
    wait_book_status(&a, &id, "completed").await;

    // The display name is the author until the book gets its own pen name.
    let md = String::from_utf8(download(&app, &a, &id, "md").await).expect("utf-8");
    assert!(
        md.contains("author: \"Ana Pérez\""),
        "{}",
        &md[..300.min(md.len())]
    );
    assert!(!md.contains("Buko\""));

    let res = a
        .client
        .post_form(
            &format!("/books/{id}/credits"),
            &[
                ("csrf_token", &token),
                ("pen_name", "A. P. Lighthouse"),
                ("dedication", "For Marta, who kept the light on"),
                (
                    "copyright_line",
                    "© 2026 A. P. Lighthouse. Some rights reserved.",
                ),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);

    let dir = tempfile::tempdir().expect("tmp");
    let pdf = dir.path().join("b.pdf");
    std::fs::write(&pdf, download(&app, &a, &id, "pdf").await).expect("write");
    let text = tool(
        Command::new("pdftotext")
            .arg("-l")
            .arg("4")
            .arg(&pdf)
            .arg("-"),
    );
    for want in [
        "A. P. LIGHTHOUSE",
        "For Marta, who kept the light on",
        "Some rights reserved",
    ] {
        assert!(
            text.to_uppercase().contains(&want.to_uppercase()),
            "PDF front pages lack {want:?}: {text}"
        );
    }
    // The offline writer's notice stays.
    assert!(
        text.to_lowercase().contains("demo") || text.to_lowercase().contains("offline"),
        "{text}"
    );

    let epub = dir.path().join("b.epub");
    std::fs::write(&epub, download(&app, &a, &id, "epub").await).expect("write");
    let opf = tool(Command::new("unzip").arg("-p").arg(&epub));
    assert!(opf.contains("A. P. Lighthouse"), "EPUB names the pen name");
    assert!(opf.contains("For Marta, who kept the light on"));
    assert!(!opf.contains(">Buko<"));

    let docx = dir.path().join("b.docx");
    std::fs::write(&docx, download(&app, &a, &id, "docx").await).expect("write");
    let xml = tool(
        Command::new("unzip")
            .arg("-p")
            .arg(&docx)
            .arg("word/document.xml"),
    );
    assert!(xml.contains("A. P. Lighthouse"));
    assert!(xml.contains("For Marta, who kept the light on"));
    assert!(xml.contains("Some rights reserved"));
}

#[actix_web::test]
async fn a_new_key_is_shown_once_after_a_redirect_and_reload_creates_no_second_key() {
    let app = spawn_app().await;
    let a = author(&app).await;
    let token = a.client.csrf("/settings").await;
    let res = a
        .client
        .post_form("/settings/keys", &[("csrf_token", &token), ("name", "ci")])
        .await;
    assert_eq!(res.status, 303);
    assert_eq!(res.header("location"), Some("/settings"));
    let page = a.client.get("/settings").await;
    assert_eq!(page.header("cache-control"), Some("no-store"));
    assert!(page.body.contains("id=\"new-api-key\""));
    let title = page
        .body
        .split("<title>")
        .nth(1)
        .and_then(|t| t.split("</title>").next());
    assert_eq!(title, Some("Settings · Buko"), "the title is plain text");
    assert!(page.body.contains("data-confirm="), "revoking asks first");
    // A reload (GET) shows no key and creates none.
    let again = a.client.get("/settings").await;
    assert!(!again.body.contains("id=\"new-api-key\""));
    let keys = a.api("GET", "/api/v1/keys", None).await.json();
    assert_eq!(keys.as_array().map(Vec::len), Some(2), "{keys}");
}
