//! Downloads of a finished book in every format, written end to end by the node's own workers: the whole
//! author flow through the API on the offline writer, then the files as a reader's tools see them.

use crate::helpers::{author, create_book_via_api, spawn_app, wait_book_status, Author, TestApp};

/// A completed book written by the workers (architecture job, approval, book job).
async fn finished_book(app: &TestApp) -> (Author, String) {
    let a = author(app).await;
    let id = create_book_via_api(
        &a,
        "A <clockmaker> & her \"impossible\" clock / ../ in Sevilla",
    )
    .await;
    wait_book_status(&a, &id, "architecture_ready").await;
    let res = a
        .api("POST", &format!("/api/v1/books/{id}/approve"), None)
        .await;
    assert_eq!(res.status, 202, "{}", res.body);
    let book = wait_book_status(&a, &id, "completed").await;
    assert_eq!(
        book["progress"]["chunks_done"], book["progress"]["chunks_total"],
        "{book}"
    );
    (a, id)
}

#[actix_web::test]
async fn a_finished_book_downloads_in_every_format_for_its_owner_only() {
    let app = spawn_app().await;
    let (a, id) = finished_book(&app).await;
    let chapters = a
        .api("GET", &format!("/api/v1/books/{id}/chapters"), None)
        .await
        .json();
    let first_title = chapters[0]["title"].as_str().expect("title").to_string();

    let checks: [(&str, &str, &[u8]); 4] = [
        ("pdf", "application/pdf", b"%PDF-"),
        ("epub", "application/epub+zip", b"PK"),
        (
            "docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            b"PK",
        ),
        ("md", "text/markdown", b"---"),
    ];
    for (fmt, content_type, magic) in checks {
        let res = a
            .api("GET", &format!("/api/v1/books/{id}/export/{fmt}"), None)
            .await;
        assert_eq!(res.status, 200, "{fmt}: {}", res.body);
        assert!(
            res.header("content-type")
                .unwrap_or("")
                .starts_with(content_type),
            "{fmt}"
        );
        let disposition = res.header("content-disposition").unwrap_or("").to_string();
        assert!(
            disposition.starts_with("attachment; filename=\""),
            "{disposition}"
        );
        let name = disposition.split('"').nth(1).unwrap_or("");
        assert!(
            name.ends_with(&format!(".{fmt}")) && !name.contains('/') && !name.contains(".."),
            "{name}"
        );
        assert!(!name.contains('<') && !name.contains('&'), "{name}");
        let raw = res.body.as_bytes();
        assert!(
            raw.starts_with(magic) || fmt == "pdf" && res.body.contains("%PDF-"),
            "{fmt} magic"
        );
        if fmt == "md" {
            // Headings are Markdown-escaped; unescaped they are the chapter titles.
            let headings: Vec<String> = res
                .body
                .lines()
                .filter_map(|l| l.strip_prefix("## "))
                .map(|h| unescape(h.trim()))
                .collect();
            assert!(
                headings.contains(&first_title),
                "chapter titles round-trip: {headings:?}"
            );
            assert!(
                res.body.to_lowercase().contains("demo"),
                "offline demo text is labelled"
            );
        }
        // The browser route serves the same file to the signed-in owner.
        let page = a.client.get(&format!("/books/{id}/export/{fmt}")).await;
        assert_eq!(page.status, 200, "{fmt} page download");
    }
    // Renders are cached per book version.
    let cached = std::fs::read_dir(app.data_dir.path().join("exports").join(&id))
        .expect("cache dir")
        .count();
    assert_eq!(cached, 4);

    let other = author(&app).await;
    for fmt in ["pdf", "epub", "docx", "md"] {
        assert_eq!(
            other
                .api("GET", &format!("/api/v1/books/{id}/export/{fmt}"), None)
                .await
                .status,
            404
        );
        assert_eq!(
            other
                .client
                .get(&format!("/books/{id}/export/{fmt}"))
                .await
                .status,
            404
        );
    }
    assert_eq!(
        a.api("GET", &format!("/api/v1/books/{id}/export/exe"), None)
            .await
            .status,
        404
    );
}

/// Removes Markdown backslash escapes (`\*` → `*`).
fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && chars.peek().is_some_and(|n| n.is_ascii_punctuation()) {
            continue;
        }
        out.push(c);
    }
    out
}
