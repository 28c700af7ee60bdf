//! A book titled with markup renders as text everywhere: the author's pages and the admin panel.

use crate::admin::{admin, book};
use crate::helpers::spawn_app;

const TITLE: &str = "<script>alert(1)</script>";

#[actix_web::test]
async fn a_script_title_is_escaped_on_every_page() {
    let app = spawn_app().await;
    let a = admin(&app).await;
    let author = crate::admin::member(&app).await;
    let id = book(&app, &author.id, TITLE, "completed");
    let ready = book(&app, &author.id, TITLE, "architecture_ready");

    let author_pages = [
        "/books".to_string(),
        format!("/books/{id}"),
        format!("/books/{id}/live"),
        format!("/books/{id}/read"),
        format!("/books/{ready}"),
    ];
    let admin_pages = [
        "/admin/books".to_string(),
        format!("/admin/books/{id}"),
        "/admin/books?status=completed".to_string(),
    ];
    let mut shown = 0;
    for (client, pages) in [
        (&author.client, &author_pages[..]),
        (&a.client, &admin_pages[..]),
    ] {
        for path in pages.iter() {
            let res = client.get(path).await;
            assert!(res.status < 500, "{path}: {}", res.status);
            assert!(!res.body.contains(TITLE), "{path} has the raw title");
            assert!(
                !res.body.contains("<script>alert"),
                "{path} has a script tag"
            );
            if res.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;")
                || res
                    .body
                    .contains("&#60;script&#62;alert(1)&#60;/script&#62;")
            {
                shown += 1;
            }
        }
    }
    // The library, the book's own page and the admin lists show the title (escaped).
    assert!(
        shown >= 5,
        "the escaped title appeared on only {shown} pages"
    );
}
