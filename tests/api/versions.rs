//! Editing a chapter and its versions (issue 13): a hand edit keeps the previous text as a version,
//! restore brings it back, the export follows the current text; regenerate with an instruction reaches
//! the provider's prompt; one "book ready" mail per book.

use serde_json::json;

use crate::helpers::{author, create_book_via_api, jobs_of, spawn_app, wait_book_status, Author};
use crate::llm::helpers::spawn_fake;

pub(crate) async fn completed_book(a: &Author) -> String {
    let id = create_book_via_api(a, "A keeper of a lighthouse finds a message in a bottle").await;
    wait_book_status(a, &id, "architecture_ready").await;
    let res = a
        .api("POST", &format!("/api/v1/books/{id}/approve"), None)
        .await;
    assert_eq!(res.status, 202, "{}", res.body);
    wait_book_status(a, &id, "completed").await;
    id
}

async fn markdown(a: &Author, id: &str) -> String {
    let res = a
        .api("GET", &format!("/api/v1/books/{id}/export/md"), None)
        .await;
    assert_eq!(res.status, 200);
    res.body
}

#[actix_web::test]
async fn edit_keeps_a_version_restore_brings_it_back_and_the_export_follows() {
    let app = spawn_app().await;
    let a = author(&app).await;
    let id = completed_book(&a).await;
    let chapters = a
        .api("GET", &format!("/api/v1/books/{id}/chapters"), None)
        .await
        .json();
    let original = chapters[0]["content"].as_str().expect("text").to_string();
    let first_para = original
        .split("\n\n")
        .next()
        .expect("paragraph")
        .to_string();
    assert!(markdown(&a, &id).await.contains(&first_para));

    let edited = "The keeper *climbed* the stairs.\n\nA **new** paragraph by the author.";
    let res = a
        .api(
            "PUT",
            &format!("/api/v1/books/{id}/chapters/0"),
            Some(json!({ "content": edited })),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.json()["content"], edited);
    assert_eq!(res.json()["revision"]["kind"], "edit");
    assert_eq!(res.json()["words"], 11);

    let history = a
        .api(
            "GET",
            &format!("/api/v1/books/{id}/chapters/0/versions"),
            None,
        )
        .await;
    assert_eq!(history.status, 200, "{}", history.body);
    let h = history.json();
    assert_eq!(h["current"]["content"], edited);
    assert_eq!(h["versions"].as_array().map(Vec::len), Some(1), "{h}");
    assert_eq!(h["versions"][0]["number"], 1);
    assert_eq!(h["versions"][0]["kind"], "original");
    assert_eq!(h["versions"][0]["content"], original.trim());

    // The export changes with the text (its cache is keyed by the book's version).
    let md = markdown(&a, &id).await;
    assert!(md.contains("A **new** paragraph by the author."), "{md}");
    assert!(!md.contains(&first_para));
    let book = a
        .api("GET", &format!("/api/v1/books/{id}"), None)
        .await
        .json();
    assert_eq!(book["status"], "completed", "an edit does not requeue");

    let res = a
        .api(
            "POST",
            &format!("/api/v1/books/{id}/chapters/0/versions/1/restore"),
            None,
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.json()["content"], original.trim());
    assert_eq!(res.json()["revision"]["kind"], "restore");
    let h = a
        .api(
            "GET",
            &format!("/api/v1/books/{id}/chapters/0/versions"),
            None,
        )
        .await
        .json();
    assert_eq!(h["versions"].as_array().map(Vec::len), Some(2), "{h}");
    assert_eq!(h["versions"][0]["kind"], "edit");
    assert_eq!(h["versions"][0]["content"], edited);
    let md = markdown(&a, &id).await;
    assert!(md.contains(&first_para));
    assert!(!md.contains("A **new** paragraph"));

    // Refusals: empty text, unknown chapter or version, another author's book, bad JSON.
    let path = format!("/api/v1/books/{id}/chapters/0");
    let put = |body| a.api("PUT", &path, Some(body));
    assert_eq!(put(json!({"content": "  "})).await.status, 422);
    assert_eq!(put(json!({"text": "x"})).await.status, 400);
    assert_eq!(
        a.api(
            "PUT",
            &format!("/api/v1/books/{id}/chapters/9"),
            Some(json!({"content": "x"}))
        )
        .await
        .status,
        404
    );
    assert_eq!(
        a.api(
            "POST",
            &format!("/api/v1/books/{id}/chapters/0/versions/99/restore"),
            None
        )
        .await
        .status,
        404
    );
    let other = author(&app).await;
    assert_eq!(
        other
            .api(
                "GET",
                &format!("/api/v1/books/{id}/chapters/0/versions"),
                None
            )
            .await
            .status,
        404
    );
}

#[actix_web::test]
async fn the_editor_page_saves_keeps_the_typed_text_on_error_and_compares_versions() {
    let app = spawn_app().await;
    let a = author(&app).await;
    let id = completed_book(&a).await;
    let page = a.client.get(&format!("/books/{id}/chapters/1/edit")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("id=\"chapter-editor\""));
    let token = a.client.csrf(&format!("/books/{id}/chapters/1/edit")).await;
    let res = a
        .client
        .post_form(
            &format!("/books/{id}/chapters/1/edit"),
            &[("csrf_token", &token), ("content", "Hand-written line.")],
        )
        .await;
    assert_eq!(res.status, 303);
    let page = a
        .client
        .get(&format!("/books/{id}/chapters/1/edit?saved=1"))
        .await;
    assert!(page.body.contains("All changes saved"));
    assert!(page.body.contains("Hand-written line."));
    assert!(page
        .body
        .contains(&format!("/books/{id}/chapters/1/versions/1")));
    let compare = a
        .client
        .get(&format!("/books/{id}/chapters/1/versions/1"))
        .await;
    assert_eq!(compare.status, 200);
    assert!(
        compare.body.contains("<ins>Hand-written line.</ins>"),
        "{}",
        compare.body
    );
    assert!(compare.body.contains("<del>"));
    // A too-long text is refused with the author's text still in the form.
    let long = format!("KEEP-ME {}", "word ".repeat(41_000));
    let res = a
        .client
        .post_form(
            &format!("/books/{id}/chapters/1/edit"),
            &[("csrf_token", &token), ("content", &long)],
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(res.body.contains("KEEP-ME word word"));
    assert!(res.body.contains("too long"));
}

#[actix_web::test]
async fn regenerate_with_an_instruction_reaches_the_anthropic_prompt_and_mails_once() {
    let fake = spawn_fake(|_| {}).await;
    let base = fake.clone();
    let app = crate::helpers::spawn_app_with(move |s| {
        s.llm = buko::llm::LlmSettings::from_lookup(|k| match k {
            "BUKO_LLM_PROVIDER" => Some("anthropic".into()),
            "ANTHROPIC_BASE_URL" => Some(base.clone()),
            "ANTHROPIC_API_KEY" => Some("x".into()),
            "BUKO_MODEL" => Some("claude-sonnet-4-5".into()),
            _ => None,
        })
        .expect("anthropic settings");
    })
    .await;
    let a = author(&app).await;
    let id = completed_book(&a).await;
    let instruction = "End on a cliffhanger with the lighthouse dark (marker Q7Z)";
    let res = a
        .api(
            "POST",
            &format!("/api/v1/books/{id}/chapters/0/regenerate"),
            Some(json!({ "instruction": instruction, "refresh_following": true })),
        )
        .await;
    assert_eq!(res.status, 202, "{}", res.body);
    assert_eq!(res.json()["status"], "queued");
    wait_book_status(&a, &id, "completed").await;

    let requests: serde_json::Value = awc::Client::new()
        .get(format!("{fake}/_fake/requests"))
        .send()
        .await
        .expect("requests")
        .json()
        .limit(8 * 1024 * 1024)
        .await
        .expect("json");
    let prompts: Vec<String> = requests
        .as_array()
        .expect("array")
        .iter()
        .map(|r| {
            // Plain text, or text blocks (the first one carries the prompt cache breakpoint).
            let content = &r["messages"][0]["content"];
            match content.as_array() {
                Some(blocks) => blocks
                    .iter()
                    .filter_map(|b| b["text"].as_str())
                    .collect::<String>(),
                None => content.as_str().unwrap_or("").to_string(),
            }
        })
        .collect();
    let section = format!("## The author's instruction for this rewrite\n{instruction}");
    let steered: Vec<&String> = prompts.iter().filter(|p| p.contains(&section)).collect();
    assert!(!steered.is_empty(), "the instruction reached no prompt");
    assert!(
        steered.iter().all(|p| p.contains("Write chapter 1 ")),
        "only the regenerated chapter's prompts carry it"
    );
    // Refreshing the following chapters rewrote chapter 2 too, after chapter 1, without it.
    let last_ch1 = prompts.iter().rposition(|p| p.contains(&section));
    let last_ch2 = prompts.iter().rposition(|p| p.contains("Write chapter 2 "));
    assert!(
        last_ch2 > last_ch1,
        "chapter 2 was rewritten after chapter 1"
    );

    for n in [0, 1] {
        let h = a
            .api(
                "GET",
                &format!("/api/v1/books/{id}/chapters/{n}/versions"),
                None,
            )
            .await
            .json();
        assert_eq!(h["current"]["revision"]["kind"], "regenerate", "{h}");
        assert_eq!(h["versions"][0]["kind"], "original", "{h}");
    }
    let mails = jobs_of(&app, &id)
        .iter()
        .filter(|(k, _)| k == "book_completed_email")
        .count();
    assert_eq!(mails, 1, "one book-ready mail per book");
    // A bad body is a 400, not a silent default.
    let res = a
        .api(
            "POST",
            &format!("/api/v1/books/{id}/chapters/0/regenerate"),
            Some(json!({ "instructions": "typo" })),
        )
        .await;
    assert_eq!(res.status, 400, "{}", res.body);
}
