//! The author's flow up to the workers: wizard → architecture job; (simulated architecture) → edit,
//! rename / reorder / add / remove chapters → approve → chapters and a Book job; controls; reader and
//! Markdown download; owner checks on every route.

use diesel::prelude::*;

use crate::helpers::{
    author, book_status, create_book_via_api, jobs_of, make_ready, spawn_web_app, Author, TestApp,
};

fn chapter_titles(app: &TestApp, book_id: &str) -> Vec<(i32, String, i32)> {
    use buko::db::schema::chapters;
    chapters::table
        .filter(chapters::book_id.eq(book_id))
        .order(chapters::position.asc())
        .select((chapters::position, chapters::title, chapters::target_words))
        .load(&mut app.db())
        .expect("chapters")
}

async fn create_via_wizard(a: &Author, idea: &str) -> crate::helpers::Response {
    let token = a.client.csrf("/books/new").await;
    a.client
        .post_form(
            "/books",
            &[
                ("csrf_token", &token),
                ("idea", idea),
                ("genre", "mystery"),
                ("audience", "adults"),
                ("language", "es"),
                ("tone", "warm"),
                ("target_pages", "50"),
            ],
        )
        .await
}

#[actix_web::test]
async fn wizard_creates_a_pending_book_with_an_architecture_job() {
    let app = spawn_web_app().await;
    let a = author(&app).await;
    let res = create_via_wizard(&a, "A lighthouse keeper finds a message").await;
    assert_eq!(res.status, 303, "{}", res.body);
    let location = res.header("location").expect("redirect").to_string();
    let id = location.trim_start_matches("/books/").to_string();
    assert_eq!(book_status(&app, &id), "architecture_pending");
    let jobs = jobs_of(&app, &id);
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].0, "architecture");

    let page = a.client.get(&location).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("A lighthouse keeper finds a message"));
    let library = a.client.get("/books").await;
    assert!(library.body.contains(&format!("/books/{id}")));
}

#[actix_web::test]
async fn review_edit_reorder_and_approve_through_the_page() {
    let app = spawn_web_app().await;
    let a = author(&app).await;
    let id = create_book_via_api(&a, "A lighthouse keeper").await;
    make_ready(&app, &id).await;
    let page = a.client.get(&format!("/books/{id}")).await;
    assert!(page.body.contains("Arrival") && page.body.contains("id=\"approve\""));
    let token = crate::helpers::csrf_in(&page.body).expect("csrf");
    // Rename chapter 0, move chapter 2 first, remove chapter 1, add a new one at the end.
    let res = a
        .client
        .post_form(
            &format!("/books/{id}/architecture"),
            &[
                ("csrf_token", &token),
                ("title", "The Keeper"),
                ("subtitle", ""),
                ("synopsis", "New synopsis"),
                ("audience", "all"),
                ("tone", "calm"),
                ("language", "en"),
                ("characters", "Ada | keeper | tall\nBo | cat"),
                ("facts", "Red light"),
                ("style", ""),
                ("ch_count", "4"),
                ("ch0_title", "Landfall"),
                ("ch0_words", "1500"),
                ("ch0_order", "2"),
                ("ch1_title", "The Message"),
                ("ch1_words", "1200"),
                ("ch1_order", "3"),
                ("ch1_remove", "on"),
                ("ch2_title", "Departure"),
                ("ch2_words", "800"),
                ("ch2_order", "1"),
                ("ch3_title", "Epilogue"),
                ("ch3_words", "500"),
                ("ch3_order", "9"),
            ],
        )
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    let book = buko::db::repo::books::get(&mut app.db(), &id).expect("book");
    assert_eq!(book.title, "The Keeper");
    let arch = book.architecture().expect("architecture");
    let titles: Vec<&str> = arch.chapters.iter().map(|c| c.title.as_str()).collect();
    assert_eq!(titles, ["Departure", "Landfall", "Epilogue"]);
    assert_eq!(arch.bible.characters.len(), 2);

    // An invalid edit (a word target out of range) is refused and changes nothing.
    let res = a
        .client
        .post_form(
            &format!("/books/{id}/architecture"),
            &[
                ("csrf_token", &token),
                ("title", "Broken"),
                ("language", "en"),
                ("ch_count", "1"),
                ("ch0_title", "Only"),
                ("ch0_words", "5"),
            ],
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.body);
    assert_eq!(
        buko::db::repo::books::get(&mut app.db(), &id)
            .expect("book")
            .title,
        "The Keeper"
    );

    let res = a
        .client
        .post_form(&format!("/books/{id}/approve"), &[("csrf_token", &token)])
        .await;
    assert_eq!(res.status, 303, "{}", res.body);
    assert_eq!(
        res.header("location"),
        Some(format!("/books/{id}/live").as_str())
    );
    assert_eq!(book_status(&app, &id), "queued");
    assert_eq!(
        chapter_titles(&app, &id),
        vec![
            (0, "Departure".to_string(), 800),
            (1, "Landfall".to_string(), 1500),
            (2, "Epilogue".to_string(), 500)
        ]
    );
    let jobs = jobs_of(&app, &id);
    assert!(
        jobs.iter()
            .any(|(k, p)| k == "book" && p.contains("\"regenerate_chapter\":null")),
        "{jobs:?}"
    );

    // Editing after approval: 409 on the page, nothing changes.
    let res = a
        .client
        .post_form(
            &format!("/books/{id}/architecture"),
            &[
                ("csrf_token", &token),
                ("title", "Late"),
                ("language", "en"),
                ("ch_count", "0"),
            ],
        )
        .await;
    assert_eq!(res.status, 409);
    assert_eq!(
        buko::db::repo::books::get(&mut app.db(), &id)
            .expect("book")
            .title,
        "The Keeper"
    );
    let live = a.client.get(&format!("/books/{id}/live")).await;
    assert_eq!(live.status, 200);
    assert!(live.body.contains("/static/live.js") && live.body.contains("data-book-id"));
}

#[actix_web::test]
async fn pause_resume_cancel_follow_the_status_rules() {
    let app = spawn_web_app().await;
    let a = author(&app).await;
    let id = create_book_via_api(&a, "Controls").await;
    // Pausing a book whose outline is being drafted is not a valid transition.
    let res = a
        .api("POST", &format!("/api/v1/books/{id}/pause"), None)
        .await;
    assert_eq!(res.status, 409, "{}", res.body);
    make_ready(&app, &id).await;
    assert_eq!(
        a.api("POST", &format!("/api/v1/books/{id}/approve"), None)
            .await
            .status,
        202
    );

    let res = a
        .api("POST", &format!("/api/v1/books/{id}/pause"), None)
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.json()["status"], "paused");
    let control: String = {
        use buko::db::schema::books;
        books::table
            .find(&id)
            .select(books::control)
            .first(&mut app.db())
            .expect("control")
    };
    assert_eq!(control, "pause");
    assert_eq!(
        a.api("POST", &format!("/api/v1/books/{id}/pause"), None)
            .await
            .status,
        409
    );

    let res = a
        .api("POST", &format!("/api/v1/books/{id}/resume"), None)
        .await;
    assert_eq!(res.status, 202, "{}", res.body);
    assert_eq!(book_status(&app, &id), "queued");

    // Regenerating needs a completed / paused / failed book.
    assert_eq!(
        a.api(
            "POST",
            &format!("/api/v1/books/{id}/chapters/0/regenerate"),
            None
        )
        .await
        .status,
        409
    );
    // Through the page form this time.
    let token = a.client.csrf(&format!("/books/{id}/live")).await;
    let res = a
        .client
        .post_form(
            &format!("/books/{id}/control/cancel"),
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(res.status, 303);
    assert_eq!(book_status(&app, &id), "cancelled");
    assert_eq!(
        a.api("POST", &format!("/api/v1/books/{id}/resume"), None)
            .await
            .status,
        409
    );
}

#[actix_web::test]
async fn regenerate_enqueues_a_book_job_for_that_chapter() {
    let app = spawn_web_app().await;
    let a = author(&app).await;
    let id = create_book_via_api(&a, "Regenerate").await;
    make_ready(&app, &id).await;
    assert_eq!(
        a.api("POST", &format!("/api/v1/books/{id}/approve"), None)
            .await
            .status,
        202
    );
    {
        use buko::db::schema::{books, jobs};
        let mut c = app.db();
        diesel::update(books::table.find(&id))
            .set(books::status.eq("completed"))
            .execute(&mut c)
            .expect("update");
        diesel::update(jobs::table)
            .set(jobs::status.eq("done"))
            .execute(&mut c)
            .expect("update");
    }
    assert_eq!(
        a.api(
            "POST",
            &format!("/api/v1/books/{id}/chapters/7/regenerate"),
            None
        )
        .await
        .status,
        422
    );
    let res = a
        .api(
            "POST",
            &format!("/api/v1/books/{id}/chapters/1/regenerate"),
            None,
        )
        .await;
    assert_eq!(res.status, 202, "{}", res.body);
    assert_eq!(book_status(&app, &id), "queued");
    assert!(jobs_of(&app, &id)
        .iter()
        .any(|(_, p)| p.contains("\"regenerate_chapter\":1")));
}

#[actix_web::test]
async fn reader_and_markdown_download_show_the_committed_chunks() {
    let app = spawn_web_app().await;
    let a = author(&app).await;
    let id = create_book_via_api(&a, "Download").await;
    make_ready(&app, &id).await;
    assert_eq!(
        a.api("POST", &format!("/api/v1/books/{id}/approve"), None)
            .await
            .status,
        202
    );
    {
        let mut c = app.db();
        use buko::db::repo::chapters::insert_chunk;
        insert_chunk(&mut c, &id, 1, 0, "It was a dark night.").expect("chunk");
        insert_chunk(&mut c, &id, 2, 0, "The <light> turned red.").expect("chunk");
        insert_chunk(&mut c, &id, 3, 1, "A bottle washed ashore.").expect("chunk");
    }
    let md = a.client.get(&format!("/books/{id}/export/md")).await;
    assert_eq!(md.status, 200);
    let expected_name =
        buko_export::file_name("The Lighthouse Keeper", buko_export::Format::Markdown);
    assert!(
        md.header("content-disposition")
            .unwrap_or("")
            .contains(&format!("filename=\"{expected_name}\"")),
        "{:?}",
        md.header("content-disposition")
    );
    assert!(md.body.starts_with("---\n"), "front matter first");
    assert!(md.body.contains("# The Lighthouse Keeper"));
    let arrival = md.body.find("## Arrival").expect("chapter 1 heading");
    let message = md.body.find("## The Message").expect("chapter 2 heading");
    let first = &md.body[arrival..message];
    assert!(
        first.contains("It was a dark night.") && first.contains("turned red."),
        "{first}"
    );
    assert!(
        !first.contains("The <light>"),
        "user text is escaped: {first}"
    );
    assert!(md.body[message..].contains("A bottle washed ashore."));

    let api = a
        .api("GET", &format!("/api/v1/books/{id}/export/md"), None)
        .await;
    assert_eq!(api.body, md.body);
    let chapters = a
        .api("GET", &format!("/api/v1/books/{id}/chapters"), None)
        .await
        .json();
    assert_eq!(chapters[0]["words"], 9);
    assert_eq!(chapters[1]["content"], "A bottle washed ashore.");

    let read = a.client.get(&format!("/books/{id}/read")).await;
    assert_eq!(read.status, 200);
    assert!(
        read.body.contains("turned red.") && !read.body.contains("The <light>"),
        "user text is escaped"
    );
    assert_eq!(
        a.client
            .get(&format!("/books/{id}/export/exe"))
            .await
            .status,
        404
    );
}

#[actix_web::test]
async fn another_users_book_is_not_found_everywhere() {
    let app = spawn_web_app().await;
    let owner = author(&app).await;
    let other = author(&app).await;
    let id = create_book_via_api(&owner, "Private").await;
    make_ready(&app, &id).await;
    for path in [
        format!("/books/{id}"),
        format!("/books/{id}/live"),
        format!("/books/{id}/read"),
        format!("/books/{id}/export/md"),
        format!("/books/{id}/progress"),
        format!("/books/{id}/chunks"),
    ] {
        assert_eq!(other.client.get(&path).await.status, 404, "{path}");
    }
    for (m, path) in [
        ("GET", format!("/api/v1/books/{id}")),
        ("GET", format!("/api/v1/books/{id}/chapters")),
        ("GET", format!("/api/v1/books/{id}/events")),
        ("GET", format!("/api/v1/books/{id}/export/md")),
        ("POST", format!("/api/v1/books/{id}/approve")),
        ("POST", format!("/api/v1/books/{id}/cancel")),
    ] {
        assert_eq!(other.api(m, &path, None).await.status, 404, "{m} {path}");
    }
    let token = other.client.csrf("/books/new").await;
    let res = other
        .client
        .post_form(&format!("/books/{id}/approve"), &[("csrf_token", &token)])
        .await;
    assert_eq!(res.status, 404);
    assert_eq!(
        book_status(&app, &id),
        "architecture_ready",
        "nothing changed"
    );
}
