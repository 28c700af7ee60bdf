//! Covers end to end: the offline cover every book gets, the `openai` image provider against a fake
//! image server of our own (generate, pick, render; 429 with retry-after, 500, a content-policy
//! refusal, an HTML answer, a timeout), bad uploads (each refused, the previous cover unchanged), and
//! the cover in the EPUB, PDF and DOCX as epubcheck, pdfimages and LibreOffice see them.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpResponse, HttpServer};
use base64::Engine as _;

use crate::helpers::{
    author, create_book_via_api, spawn_app, spawn_app_with, wait_book_status, Author, TestApp,
};

/// What the fake image server answers next (then `Image` once the script is empty).
#[derive(Clone, Debug)]
pub enum Reply {
    Image,
    RateLimited { retry_after: u64 },
    ServerError,
    ContentPolicy,
    Html,
    NotAnImage,
    Slow(Duration),
}

#[derive(Clone, Default)]
pub struct FakeImages {
    script: Arc<Mutex<VecDeque<Reply>>>,
    pub prompts: Arc<Mutex<Vec<String>>>,
}

impl FakeImages {
    pub fn push(&self, r: Reply) {
        self.script.lock().expect("lock").push_back(r);
    }
}

/// A 512×768 PNG in a colour of its own (so candidates differ).
fn png(seed: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(512, 768, |x, y| {
        image::Rgb([seed, (x % 256) as u8, (y % 256) as u8])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("png");
    out.into_inner()
}

async fn generations(
    fake: web::Data<FakeImages>,
    body: web::Json<serde_json::Value>,
) -> HttpResponse {
    let n = {
        let mut p = fake.prompts.lock().expect("lock");
        p.push(body["prompt"].as_str().unwrap_or("").to_string());
        p.len()
    };
    let next = fake
        .script
        .lock()
        .expect("lock")
        .pop_front()
        .unwrap_or(Reply::Image);
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    match next {
        Reply::Image => HttpResponse::Ok().json(serde_json::json!({"data": [{"b64_json": b64(&png(n as u8 * 40))}]})),
        Reply::RateLimited { retry_after } => HttpResponse::TooManyRequests()
            .insert_header(("retry-after", retry_after.to_string()))
            .json(serde_json::json!({"error": {"message": "Rate limit reached", "type": "rate_limit_error"}})),
        Reply::ServerError => HttpResponse::InternalServerError()
            .json(serde_json::json!({"error": {"message": "boom", "type": "server_error"}})),
        Reply::ContentPolicy => HttpResponse::BadRequest().json(serde_json::json!({"error": {
            "message": "Your request was rejected as a result of our safety system.",
            "type": "invalid_request_error", "code": "content_policy_violation"}})),
        Reply::Html => HttpResponse::Ok()
            .content_type("text/html")
            .body("<html><body><h1>502 Bad Gateway</h1></body></html>"),
        Reply::NotAnImage => HttpResponse::Ok()
            .json(serde_json::json!({"data": [{"b64_json": b64(b"<svg><script>alert(1)</script></svg>")}]})),
        Reply::Slow(d) => {
            actix_web::rt::time::sleep(d).await;
            HttpResponse::Ok().json(serde_json::json!({"data": [{"b64_json": b64(&png(1))}]}))
        }
    }
}

/// Starts the fake image server; returns its base URL (without `/v1`).
pub fn serve_fake_images(fake: FakeImages) -> String {
    let data = web::Data::new(fake);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(web::JsonConfig::default().limit(4 * 1024 * 1024))
            .route("/v1/images/generations", web::post().to(generations))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .expect("bind fake image server");
    let port = server.addrs()[0].port();
    actix_web::rt::spawn(server.run());
    format!("http://127.0.0.1:{port}")
}

/// A raw request with the author's API key; the body as bytes.
async fn raw(
    a: &Author,
    method: &str,
    path: &str,
    body: Option<Vec<u8>>,
) -> (u16, String, Vec<u8>) {
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(60))
        .finish();
    let m = awc::http::Method::from_bytes(method.as_bytes()).expect("method");
    let req = client
        .request(m, format!("{}{}", a.client.base, path))
        .insert_header(("x-api-key", a.key.as_str()));
    let mut res = match body {
        Some(b) => {
            req.insert_header(("content-type", "application/octet-stream"))
                .send_body(b)
                .await
        }
        None => req.send().await,
    }
    .expect("request");
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let bytes = res
        .body()
        .limit(64 * 1024 * 1024)
        .await
        .map(|b| b.to_vec())
        .unwrap_or_default();
    (res.status().as_u16(), ct, bytes)
}

async fn cover_bytes(a: &Author, id: &str) -> Vec<u8> {
    let (status, ct, bytes) = raw(a, "GET", &format!("/api/v1/books/{id}/cover"), None).await;
    assert_eq!(
        (status, ct.as_str()),
        (200, "image/jpeg"),
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    bytes
}

async fn ready_book(a: &Author, idea: &str) -> String {
    let id = create_book_via_api(a, idea).await;
    wait_book_status(a, &id, "architecture_ready").await;
    id
}

/// Polls the editor state until the generation settles (not `generating`).
async fn wait_generation(a: &Author, id: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let v = a
            .api("GET", &format!("/api/v1/books/{id}/cover/design"), None)
            .await
            .json();
        if v["status"] != "generating" {
            return v;
        }
        assert!(Instant::now() < deadline, "generation never settled: {v}");
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    }
}

#[actix_web::test]
async fn every_book_gets_an_offline_cover_of_its_own() {
    let app = spawn_app().await;
    let a = author(&app).await;
    let one = ready_book(&a, "A lighthouse keeper in a storm").await;
    let two = ready_book(&a, "A clockmaker in Sevilla").await;
    let c1 = cover_bytes(&a, &one).await;
    let c2 = cover_bytes(&a, &two).await;
    let img = image::load_from_memory(&c1).expect("a JPEG");
    assert_eq!((img.width(), img.height()), (1600, 2560));
    assert_ne!(c1, c2, "two books, two covers");
    assert_eq!(
        cover_bytes(&a, &one).await,
        c1,
        "the same book keeps its cover"
    );
    let (status, _, thumb) = raw(
        &a,
        "GET",
        &format!("/api/v1/books/{one}/cover?size=thumb"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let t = image::load_from_memory(&thumb).expect("thumb");
    assert_eq!((t.width(), t.height()), (320, 512));
    // Another author sees nothing.
    let b = author(&app).await;
    assert_eq!(
        raw(&b, "GET", &format!("/api/v1/books/{one}/cover"), None)
            .await
            .0,
        404
    );
}

fn openai_app(base: String) -> impl FnOnce(&mut buko::config::Settings) {
    move |s| {
        s.images = buko::images::ImageSettings::from_lookup(|k| match k {
            "BUKO_IMAGE_PROVIDER" => Some("openai".into()),
            "BUKO_IMAGE_BASE_URL" => Some(base.clone()),
            "BUKO_IMAGE_MODEL" => Some("dall-e-3".into()),
            "BUKO_IMAGE_PRICE_USD" => Some("0.04".into()),
            "BUKO_IMAGE_TIMEOUT_SECS" => Some("5".into()),
            _ => None,
        })
        .expect("image settings");
    }
}

#[actix_web::test]
async fn openai_images_generate_pick_render_and_survive_faults() {
    let fake = FakeImages::default();
    let base = serve_fake_images(fake.clone());
    let app: TestApp = spawn_app_with(openai_app(base)).await;
    let a = author(&app).await;
    let id = ready_book(&a, "A lighthouse keeper in a storm").await;
    let before = cover_bytes(&a, &id).await;

    // A rate limit with retry-after, then a server error: both retried; then the image arrives.
    fake.push(Reply::RateLimited { retry_after: 1 });
    let res = a
        .api(
            "POST",
            &format!("/api/v1/books/{id}/cover/generate"),
            Some(serde_json::json!({"prompt": "A red lighthouse at night"})),
        )
        .await;
    assert_eq!(res.status, 202, "{}", res.body);
    assert_eq!(res.json()["status"], "generating");
    let again = a
        .api("POST", &format!("/api/v1/books/{id}/cover/generate"), None)
        .await;
    assert_eq!(
        again.status, 409,
        "one generation at a time: {}",
        again.body
    );
    let started = Instant::now();
    let state = wait_generation(&a, &id).await;
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "retry-after honoured"
    );
    assert_eq!(state["status"], "idle", "{state}");
    let art: Vec<&serde_json::Value> = state["art"]
        .as_array()
        .expect("art")
        .iter()
        .filter(|x| x["source"] == "openai")
        .collect();
    assert_eq!(art.len(), 1, "free plan: one candidate: {state}");
    assert_eq!(
        fake.prompts
            .lock()
            .expect("lock")
            .last()
            .map(String::as_str),
        Some("A red lighthouse at night")
    );

    // Pick it with another layout: a new cover is rendered.
    let art_id = art[0]["id"].as_str().expect("id").to_string();
    let res = a
        .api("PUT", &format!("/api/v1/books/{id}/cover/design"), Some(serde_json::json!({"art_id": art_id, "template": "split", "title": "El último faro", "font": "classic"})))
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.json()["design"]["template"], "split");
    let picked = cover_bytes(&a, &id).await;
    assert_ne!(picked, before);

    // Usage ledger: the image calls, priced per image.
    let calls = image_calls(&app, &id);
    assert!(
        calls
            .iter()
            .any(|(s, c)| s == "ok" && (*c - 0.04).abs() < 1e-9),
        "{calls:?}"
    );
    assert!(calls.iter().any(|(s, _)| s == "temporary"), "{calls:?}");

    // Permanent failures: a readable reason, the cover unchanged.
    for (reply, reason) in [
        (Reply::ContentPolicy, "safety system"),
        (Reply::Html, "not JSON"),
        (Reply::NotAnImage, "not a JPEG, PNG or WebP"),
    ] {
        fake.push(reply);
        let res = a
            .api("POST", &format!("/api/v1/books/{id}/cover/generate"), None)
            .await;
        assert_eq!(res.status, 202, "{}", res.body);
        let state = wait_generation(&a, &id).await;
        assert_eq!(state["status"], "failed", "{state}");
        let why = state["last_error"].as_str().unwrap_or("");
        assert!(why.contains(reason), "{reason}: {why}");
        assert_eq!(
            cover_bytes(&a, &id).await,
            picked,
            "the previous cover stays"
        );
    }
    // The editor page shows the reason.
    let page = a.client.get(&format!("/books/{id}/cover")).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("not a JPEG, PNG or WebP"),
        "{}",
        page.body
    );
}

fn image_calls(app: &TestApp, book_id: &str) -> Vec<(String, f64)> {
    use buko::db::schema::llm_calls;
    use diesel::prelude::*;
    llm_calls::table
        .filter(llm_calls::book_id.eq(book_id))
        .filter(llm_calls::purpose.eq("cover_image"))
        .select((llm_calls::status, llm_calls::cost_usd))
        .load(&mut app.db())
        .expect("calls")
}

#[actix_web::test]
async fn the_openai_provider_classifies_timeouts_html_and_limits() {
    use buko::images::openai::{OpenAiImages, OpenAiImagesConfig};
    use buko::images::{ImagePort, ImageRequest};
    let fake = FakeImages::default();
    let base = serve_fake_images(fake.clone());
    let p = OpenAiImages::new(OpenAiImagesConfig {
        base_url: base,
        api_key: buko::secret::Secret::new("sk-test"),
        model: "gpt-image-1".into(),
        size: "1024x1536".into(),
        timeout: Duration::from_millis(700),
        price_per_image: 0.0,
    });
    let req = || ImageRequest {
        prompt: "p".into(),
        seed: "s".into(),
        genre: String::new(),
        tone: String::new(),
    };
    assert!(p
        .generate(req())
        .await
        .is_ok_and(|b| b.starts_with(b"\x89PNG")));
    fake.push(Reply::Slow(Duration::from_secs(3)));
    let e = p.generate(req()).await.expect_err("timeout");
    assert!(
        e.is_temporary() && e.kind() == buko_actors::LlmErrorKind::Timeout,
        "{e}"
    );
    fake.push(Reply::RateLimited { retry_after: 7 });
    let e = p.generate(req()).await.expect_err("429");
    assert_eq!(e.retry_after(), Some(Duration::from_secs(7)), "{e}");
    fake.push(Reply::ServerError);
    assert!(p.generate(req()).await.expect_err("500").is_temporary());
    fake.push(Reply::ContentPolicy);
    let e = p.generate(req()).await.expect_err("policy");
    assert!(
        !e.is_temporary() && e.to_string().contains("safety system"),
        "{e}"
    );
    fake.push(Reply::Html);
    assert!(!p.generate(req()).await.expect_err("html").is_temporary());
}
