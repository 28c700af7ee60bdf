//! One use case, two doors: every book use case driven through the JSON API and through the pages must
//! end the same way — the same refusal status, the same stored status, the same quota left, the same
//! events. A success is `2xx` on the API and `303` on the pages; a refusal has the same code on both.

use buko::db::schema::{books, jobs};
use diesel::prelude::*;
use serde_json::json;

use crate::helpers::{author, book_status, make_ready, spawn_web_app, Author, TestApp};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Door {
    Api,
    Page,
}

const DOORS: [Door; 2] = [Door::Api, Door::Page];

/// What a caller of either door sees: success, or the refusal's status code.
#[derive(Debug, PartialEq)]
enum Outcome {
    Done,
    Refused(u16),
}

fn outcome(door: Door, status: u16, body: &str) -> Outcome {
    let done = match door {
        Door::Api => (200..300).contains(&status),
        Door::Page => status == 303,
    };
    if done {
        Outcome::Done
    } else {
        assert!(status >= 400, "{door:?}: unexpected {status}: {body}");
        Outcome::Refused(status)
    }
}

impl Door {
    /// Creates a book from an idea; returns the outcome and the new book's id.
    async fn create(self, a: &Author, idea: &str, pages: &str) -> (Outcome, Option<String>) {
        match self {
            Door::Api => {
                let pages: i64 = pages.parse().expect("pages");
                let body = json!({"idea": idea, "language": "en", "target_pages": pages});
                let res = a.api("POST", "/api/v1/books", Some(body)).await;
                let id = res
                    .body
                    .contains("\"id\"")
                    .then(|| res.json()["id"].as_str().expect("id").to_string());
                (outcome(self, res.status, &res.body), id)
            }
            Door::Page => {
                let token = a.client.csrf("/books/new").await;
                let form = [
                    ("csrf_token", token.as_str()),
                    ("idea", idea),
                    ("language", "en"),
                    ("target_pages", pages),
                ];
                let res = a.client.post_form("/books", &form).await;
                let id = res
                    .header("location")
                    .map(|l| l.trim_start_matches("/books/").to_string());
                (outcome(self, res.status, &res.body), id)
            }
        }
    }

    /// A bodiless action: `api` under `/api/v1/books/{id}/`, `page` under `/books/{id}/`.
    async fn act(self, a: &Author, id: &str, api: &str, page: &str) -> Outcome {
        let res = match self {
            Door::Api => {
                a.api("POST", &format!("/api/v1/books/{id}/{api}"), None)
                    .await
            }
            Door::Page => {
                let token = a.client.csrf("/books/new").await;
                a.client
                    .post_form(&format!("/books/{id}/{page}"), &[("csrf_token", &token)])
                    .await
            }
        };
        outcome(self, res.status, &res.body)
    }

    async fn control(self, a: &Author, id: &str, action: &str) -> Outcome {
        self.act(a, id, action, &format!("control/{action}")).await
    }

    async fn approve(self, a: &Author, id: &str) -> Outcome {
        self.act(a, id, "approve", "approve").await
    }

    /// Saves an architecture with one chapter titled `title` of `words` words.
    async fn save_architecture(self, a: &Author, id: &str, title: &str, words: u32) -> Outcome {
        let res = match self {
            Door::Api => {
                let arch = json!({"architecture": {
                    "title": "Edited", "language": "en",
                    "chapters": [{"title": title, "summary": "", "key_points": [], "target_words": words}]
                }});
                a.api(
                    "PUT",
                    &format!("/api/v1/books/{id}/architecture"),
                    Some(arch),
                )
                .await
            }
            Door::Page => {
                let token = a.client.csrf("/books/new").await;
                let words = words.to_string();
                let form = [
                    ("csrf_token", token.as_str()),
                    ("title", "Edited"),
                    ("language", "en"),
                    ("ch_count", "1"),
                    ("ch0_title", title),
                    ("ch0_words", &words),
                ];
                a.client
                    .post_form(&format!("/books/{id}/architecture"), &form)
                    .await
            }
        };
        outcome(self, res.status, &res.body)
    }

    /// Downloads the Markdown export: the outcome and the bytes.
    async fn export(self, a: &Author, id: &str, ext: &str) -> (Outcome, String) {
        let res = match self {
            Door::Api => {
                a.api("GET", &format!("/api/v1/books/{id}/export/{ext}"), None)
                    .await
            }
            Door::Page => a.client.get(&format!("/books/{id}/export/{ext}")).await,
        };
        let ok = res.status == 200;
        let o = if ok {
            Outcome::Done
        } else {
            Outcome::Refused(res.status)
        };
        (o, res.body)
    }
}

/// (architectures left, books left) this hour.
async fn quota_left(a: &Author) -> (u64, u64) {
    let usage = a.api("GET", "/api/v1/usage", None).await.json();
    let l = &usage["limits"];
    (
        l["architectures_remaining"]
            .as_u64()
            .expect("architectures"),
        l["books_remaining"].as_u64().expect("books"),
    )
}

fn job_kinds(app: &TestApp, id: &str) -> Vec<String> {
    crate::helpers::jobs_of(app, id)
        .into_iter()
        .map(|(k, _)| k)
        .collect()
}

/// A book through the API, its architecture stored as the job would: `architecture_ready`.
async fn ready(app: &TestApp, a: &Author) -> String {
    let (o, id) = Door::Api.create(a, "Ready book", "20").await;
    assert_eq!(o, Outcome::Done);
    let id = id.expect("id");
    make_ready(app, &id).await;
    id
}

#[actix_web::test]
async fn create_validates_then_takes_one_architecture_quota_through_either_door() {
    let app = spawn_web_app().await;
    let mut seen = vec![];
    for door in DOORS {
        let a = author(&app).await;
        let before = quota_left(&a).await;
        // Bad input costs nothing.
        let (bad, _) = door.create(&a, "   ", "20").await;
        let (short, _) = door.create(&a, "An idea", "5").await;
        assert_eq!(quota_left(&a).await, before, "{door:?}");
        let (ok, id) = door.create(&a, "A keeper finds a message", "20").await;
        let id = id.expect("id");
        let after = quota_left(&a).await;
        let (_, _) = door.create(&a, "Second", "20").await;
        let (_, _) = door.create(&a, "Third", "20").await;
        let (over, _) = door.create(&a, "One too many", "20").await;
        seen.push((
            bad,
            short,
            ok,
            before.0 - after.0,
            book_status(&app, &id),
            job_kinds(&app, &id),
            over,
        ));
    }
    assert_eq!(seen[0], seen[1], "the API and the pages disagree");
    let (bad, short, ok, spent, status, jobs, over) = &seen[0];
    assert_eq!(
        (bad, short, ok),
        (
            &Outcome::Refused(422),
            &Outcome::Refused(422),
            &Outcome::Done
        )
    );
    assert_eq!(*spent, 1);
    assert_eq!(status, "architecture_pending");
    assert_eq!(jobs, &["architecture"]);
    assert_eq!(over, &Outcome::Refused(429), "free plan: 3 per hour");
}

#[actix_web::test]
async fn save_architecture_checks_status_then_input_through_either_door() {
    let app = spawn_web_app().await;
    let mut seen = vec![];
    for door in DOORS {
        let a = author(&app).await;
        let id = ready(&app, &a).await;
        let invalid = door.save_architecture(&a, &id, "Tiny", 5).await;
        let saved = door.save_architecture(&a, &id, "Only chapter", 1500).await;
        let book = buko::db::repo::books::get(&mut app.db(), &id).expect("book");
        let chapters: Vec<String> = book
            .architecture()
            .expect("architecture")
            .chapters
            .into_iter()
            .map(|c| c.title)
            .collect();
        assert_eq!(door.approve(&a, &id).await, Outcome::Done);
        let after_approval = door.save_architecture(&a, &id, "Late", 1500).await;
        let pending = Door::Api.create(&a, "Pending", "20").await.1.expect("id");
        let while_drafting = door.save_architecture(&a, &pending, "Early", 1500).await;
        seen.push((
            invalid,
            saved,
            book.title,
            chapters,
            after_approval,
            while_drafting,
        ));
    }
    assert_eq!(seen[0], seen[1], "the API and the pages disagree");
    let (invalid, saved, title, chapters, after, drafting) = &seen[0];
    assert_eq!(invalid, &Outcome::Refused(422));
    assert_eq!(saved, &Outcome::Done);
    assert_eq!(
        (title.as_str(), chapters.as_slice()),
        ("Edited", &["Only chapter".to_string()][..])
    );
    assert_eq!(after, &Outcome::Refused(409));
    assert_eq!(drafting, &Outcome::Refused(409));
}

#[actix_web::test]
async fn approve_takes_one_book_quota_and_queues_a_book_job_through_either_door() {
    let app = spawn_web_app().await;
    let mut seen = vec![];
    for door in DOORS {
        let a = author(&app).await;
        // Three books: the free plan's architectures for the hour.
        let third = Door::Api.create(&a, "Pending", "20").await.1.expect("id");
        let id = ready(&app, &a).await;
        let before = quota_left(&a).await;
        let too_early = door.approve(&a, &third).await;
        let ok = door.approve(&a, &id).await;
        let after = quota_left(&a).await;
        let again = door.approve(&a, &id).await;
        let second = ready(&app, &a).await;
        assert_eq!(door.approve(&a, &second).await, Outcome::Done);
        make_ready(&app, &third).await;
        let over = door.approve(&a, &third).await;
        seen.push((
            too_early,
            ok,
            before.1 - after.1,
            book_status(&app, &id),
            job_kinds(&app, &id),
            again,
            over,
            book_status(&app, &third),
        ));
    }
    assert_eq!(seen[0], seen[1], "the API and the pages disagree");
    let (early, ok, spent, status, jobs, again, over, third) = &seen[0];
    assert_eq!((early, ok), (&Outcome::Refused(409), &Outcome::Done));
    assert_eq!(*spent, 1);
    assert_eq!(status, "queued");
    assert_eq!(jobs, &["architecture", "book"]);
    assert_eq!(again, &Outcome::Refused(409));
    assert_eq!(over, &Outcome::Refused(429), "free plan: 2 books per hour");
    assert_eq!(
        third, "architecture_ready",
        "a refused approval changes nothing"
    );
}

#[actix_web::test]
async fn pause_resume_cancel_and_regenerate_follow_the_same_rules_through_either_door() {
    let app = spawn_web_app().await;
    let mut seen = vec![];
    for door in DOORS {
        let a = author(&app).await;
        let id = ready(&app, &a).await;
        let mut steps = vec![];
        let mut step = |name: &str, o: Outcome, app: &TestApp| {
            steps.push((name.to_string(), o, book_status(app, &id)));
        };
        step("pause ready", door.control(&a, &id, "pause").await, &app);
        step(
            "regenerate ready",
            door.act(&a, &id, "chapters/0/regenerate", "chapters/0/regenerate")
                .await,
            &app,
        );
        assert_eq!(door.approve(&a, &id).await, Outcome::Done);
        step("resume queued", door.control(&a, &id, "resume").await, &app);
        step("pause", door.control(&a, &id, "pause").await, &app);
        step("pause again", door.control(&a, &id, "pause").await, &app);
        step(
            "regenerate 9",
            door.act(&a, &id, "chapters/9/regenerate", "chapters/9/regenerate")
                .await,
            &app,
        );
        // The approval's job finished (as a worker would mark it), so the regeneration gets its own.
        diesel::update(jobs::table.filter(jobs::payload.like(format!("%{id}%"))))
            .set(jobs::status.eq("done"))
            .execute(&mut app.db())
            .expect("jobs done");
        step(
            "regenerate 1",
            door.act(&a, &id, "chapters/1/regenerate", "chapters/1/regenerate")
                .await,
            &app,
        );
        step("pause", door.control(&a, &id, "pause").await, &app);
        step("resume", door.control(&a, &id, "resume").await, &app);
        step("cancel", door.control(&a, &id, "cancel").await, &app);
        step(
            "resume cancelled",
            door.control(&a, &id, "resume").await,
            &app,
        );
        step("teleport", door.control(&a, &id, "teleport").await, &app);
        let regenerate_job = crate::helpers::jobs_of(&app, &id)
            .iter()
            .any(|(_, p)| p.contains("\"regenerate_chapter\":1"));
        seen.push((steps, regenerate_job));
    }
    assert_eq!(seen[0], seen[1], "the API and the pages disagree");
    let expected = [
        ("pause ready", Outcome::Refused(409), "architecture_ready"),
        (
            "regenerate ready",
            Outcome::Refused(409),
            "architecture_ready",
        ),
        ("resume queued", Outcome::Refused(409), "queued"),
        ("pause", Outcome::Done, "paused"),
        ("pause again", Outcome::Refused(409), "paused"),
        ("regenerate 9", Outcome::Refused(422), "paused"),
        ("regenerate 1", Outcome::Done, "queued"),
        ("pause", Outcome::Done, "paused"),
        ("resume", Outcome::Done, "queued"),
        ("cancel", Outcome::Done, "cancelled"),
        ("resume cancelled", Outcome::Refused(409), "cancelled"),
        ("teleport", Outcome::Refused(404), "cancelled"),
    ];
    let got: Vec<(&str, &Outcome, &str)> = seen[0]
        .0
        .iter()
        .map(|(n, o, s)| (n.as_str(), o, s.as_str()))
        .collect();
    let want: Vec<(&str, &Outcome, &str)> = expected.iter().map(|(n, o, s)| (*n, o, *s)).collect();
    assert_eq!(got, want);
    assert!(seen[0].1, "regenerating queued a job for chapter 1");
}

#[actix_web::test]
async fn events_and_exports_are_the_same_through_either_door() {
    let app = spawn_web_app().await;
    let a = author(&app).await;
    let id = ready(&app, &a).await;

    // Nothing written yet: no door exports; an unknown format is not found on both.
    for door in DOORS {
        assert_eq!(
            door.export(&a, &id, "md").await.0,
            Outcome::Refused(409),
            "{door:?}"
        );
        assert_eq!(
            door.export(&a, &id, "odt").await.0,
            Outcome::Refused(404),
            "{door:?}"
        );
    }
    assert_eq!(Door::Page.approve(&a, &id).await, Outcome::Done);
    // The book job as a worker runs it (the offline writer, at full speed).
    let run = app.runner.book(&id, buko_actors::Fence(1), None).await;
    assert_eq!(run, buko::runner::RunOutcome::Done("completed".into()));
    let (api, api_md) = Door::Api.export(&a, &id, "md").await;
    let (page, page_md) = Door::Page.export(&a, &id, "md").await;
    assert_eq!((api, page), (Outcome::Done, Outcome::Done));
    assert_eq!(api_md, page_md);
    assert!(api_md.contains("# The Lighthouse Keeper"));
    // The reader offers the regenerate use case on a written book (README: "reader; regenerate").
    let reader = a.client.get(&format!("/books/{id}/read")).await;
    assert!(reader
        .body
        .contains(&format!("/books/{id}/chapters/0/regenerate")));

    // The API's events and the live page's replay point end at the same event.
    let events = a
        .api("GET", &format!("/api/v1/books/{id}/events"), None)
        .await
        .json();
    let events = events.as_array().expect("events");
    assert_eq!(events[0]["kind"], "status");
    assert_eq!(events[0]["data"]["status"], "architecture_ready");
    let last = events.last().expect("events")["seq"].as_i64().expect("seq");
    let live = a.client.get(&format!("/books/{id}/live")).await;
    assert!(
        live.body.contains(&format!("data-last-seq=\"{last}\"")),
        "live page replays from {last}"
    );
    let stored: String = books::table
        .find(&id)
        .select(books::status)
        .first(&mut app.db())
        .expect("status");
    assert_eq!(stored, "completed");
    let kinds: Vec<String> = jobs::table
        .filter(jobs::payload.like(format!("%{id}%")))
        .order(jobs::created_at.asc())
        .select(jobs::kind)
        .load(&mut app.db())
        .expect("jobs");
    assert_eq!(kinds, ["architecture", "book", "book_completed_email"]);
}
