//! Covers against bad input and in every export: uploads that are not images, truncated, a
//! decompression bomb, 50 MB, an SVG with a script, a polyglot, a 100k-character prompt — each refused
//! (4xx with a JSON reason) or neutralised, the previous cover unchanged; then the cover in the EPUB
//! (epubcheck), the PDF's first page (pdfimages) and the DOCX (`word/media/`, LibreOffice converts it).

use std::io::Read;
use std::time::Duration;

use crate::helpers::{author, create_book_via_api, spawn_app, wait_book_status, Author};

async fn raw(a: &Author, method: &str, path: &str, body: Option<Vec<u8>>) -> (u16, Vec<u8>) {
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(120))
        .finish();
    let m = awc::http::Method::from_bytes(method.as_bytes()).expect("method");
    let req = client
        .request(m, format!("{}{}", a.client.base, path))
        .insert_header(("x-api-key", a.key.as_str()));
    let res = match body {
        Some(b) => {
            req.insert_header(("content-type", "application/octet-stream"))
                .send_body(b)
                .await
        }
        None => req.send().await,
    };
    let Ok(mut res) = res else {
        // The server may close the connection on a body it refuses to read.
        return (413, Vec::new());
    };
    let bytes = res
        .body()
        .limit(64 * 1024 * 1024)
        .await
        .map(|b| b.to_vec())
        .unwrap_or_default();
    (res.status().as_u16(), bytes)
}

fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x % 200) as u8, (y % 200) as u8, 90])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("png");
    out.into_inner()
}

fn jpeg(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([200, (x % 256) as u8, (y % 256) as u8])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Jpeg)
        .expect("jpeg");
    out.into_inner()
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A valid PNG header claiming 60 000 × 60 000 pixels (3.6 gigapixels) over a tiny body.
fn bomb() -> Vec<u8> {
    let mut b = png(64, 64);
    b[16..20].copy_from_slice(&60_000u32.to_be_bytes());
    b[20..24].copy_from_slice(&60_000u32.to_be_bytes());
    let crc = crc32(&b[12..29]);
    b[29..33].copy_from_slice(&crc.to_be_bytes());
    b
}

#[actix_web::test]
async fn bad_uploads_are_refused_and_the_cover_stays() {
    let app = spawn_app().await;
    let a = author(&app).await;
    let id = create_book_via_api(&a, "A lighthouse keeper").await;
    wait_book_status(&a, &id, "architecture_ready").await;
    let cover = format!("/api/v1/books/{id}/cover");
    let (s, before) = raw(&a, "GET", &cover, None).await;
    assert_eq!(s, 200);

    let full = png(300, 480);
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("empty", Vec::new(), 400),
        ("not an image", b"hello, this is text".to_vec(), 422),
        ("truncated", full[..full.len() / 2].to_vec(), 422),
        ("bomb", bomb(), 422),
        (
            "svg with script",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>".to_vec(),
            422,
        ),
        (
            "html",
            b"<!doctype html><script>alert(1)</script>".to_vec(),
            422,
        ),
        ("tiny", png(8, 8), 422),
        ("50 MB", vec![0u8; 50 * 1024 * 1024], 413),
    ];
    for (what, body, want) in cases {
        let (status, res) = raw(&a, "PUT", &cover, Some(body)).await;
        assert_eq!(status, want, "{what}: {}", String::from_utf8_lossy(&res));
        if want != 413 {
            let v: serde_json::Value =
                serde_json::from_slice(&res).unwrap_or_else(|_| panic!("{what}: JSON body"));
            assert!(
                v["message"].as_str().is_some_and(|m| !m.is_empty()),
                "{what}: {v}"
            );
        }
        let (_, now) = raw(&a, "GET", &cover, None).await;
        assert_eq!(now, before, "{what}: the previous cover stays");
    }

    // A polyglot (a JPEG with a script appended) is an image: accepted, but what is served is our own
    // re-encoding, never the uploaded bytes.
    let mut poly = jpeg(400, 640);
    poly.extend_from_slice(b"<script>alert('polyglot')</script><?php system($_GET['c']); ?>");
    let (status, res) = raw(&a, "PUT", &cover, Some(poly.clone())).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&res));
    let view: serde_json::Value = serde_json::from_slice(&res).expect("json");
    let art = view["art_id"].as_str().expect("art chosen").to_string();
    let (_, stored) = raw(
        &a,
        "GET",
        &format!("/api/v1/books/{id}/cover/art/{art}"),
        None,
    )
    .await;
    assert!(
        !stored.windows(7).any(|w| w == b"<script"),
        "the payload is gone"
    );
    assert_ne!(stored, poly);
    let (_, after) = raw(&a, "GET", &cover, None).await;
    assert_ne!(after, before, "a good upload makes a new cover");

    // Prompts: 100k characters, and empty.
    let gen = format!("/api/v1/books/{id}/cover/generate");
    let res = a
        .api(
            "POST",
            &gen,
            Some(serde_json::json!({"prompt": "x".repeat(100_000)})),
        )
        .await;
    assert_eq!(res.status, 422, "{}", res.body);
    assert!(
        res.json()["message"]
            .as_str()
            .unwrap_or("")
            .contains("2000"),
        "{}",
        res.body
    );
    let res = a
        .api("POST", &gen, Some(serde_json::json!({"prompt": "   "})))
        .await;
    assert_eq!(res.status, 422, "{}", res.body);
    // Bad design values.
    let design = format!("/api/v1/books/{id}/cover/design");
    for body in [
        serde_json::json!({"template": "comic"}),
        serde_json::json!({"background": "red"}),
        serde_json::json!({"title": "t".repeat(5000)}),
        serde_json::json!({"art_id": "no-such-art"}),
    ] {
        let res = a.api("PUT", &design, Some(body.clone())).await;
        assert_eq!(res.status, 422, "{body}: {}", res.body);
    }
    let (_, last) = raw(&a, "GET", &cover, None).await;
    assert_eq!(last, after, "refused designs leave the cover");
}

fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("zip");
    (0..zip.len())
        .map(|i| {
            let mut f = zip.by_index(i).expect("entry");
            let mut out = Vec::new();
            f.read_to_end(&mut out).expect("read");
            (f.name().to_string(), out)
        })
        .collect()
}

#[actix_web::test]
async fn the_cover_opens_every_export_and_a_new_cover_renders_them_again() {
    let app = spawn_app().await;
    let a = author(&app).await;
    let id = create_book_via_api(&a, "A clockmaker in Sevilla").await;
    wait_book_status(&a, &id, "architecture_ready").await;
    let res = a
        .api("POST", &format!("/api/v1/books/{id}/approve"), None)
        .await;
    assert_eq!(res.status, 202, "{}", res.body);
    wait_book_status(&a, &id, "completed").await;
    let dir = tempfile::tempdir().expect("tmp");

    // EPUB: a raster cover image, a cover page, epubcheck clean.
    let (s, epub) = raw(&a, "GET", &format!("/api/v1/books/{id}/export/epub"), None).await;
    assert_eq!(s, 200);
    let files = unzip(&epub);
    let opf = files
        .iter()
        .find(|(n, _)| n.ends_with(".opf"))
        .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
        .expect("opf");
    assert!(
        opf.contains("cover.jpg") && opf.contains("properties=\"cover-image\""),
        "{opf}"
    );
    assert!(files
        .iter()
        .any(|(n, b)| n.ends_with("cover.jpg") && b.starts_with(&[0xFF, 0xD8])));
    let epub_path = dir.path().join("book.epub");
    std::fs::write(&epub_path, &epub).expect("write");
    let out = std::process::Command::new("java")
        .args(["-jar", "/usr/share/java/epubcheck.jar"])
        .arg(&epub_path)
        .output()
        .expect("epubcheck runs");
    assert!(
        out.status.success(),
        "epubcheck: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // PDF: an image on page 1.
    let (s, pdf) = raw(&a, "GET", &format!("/api/v1/books/{id}/export/pdf"), None).await;
    assert_eq!(s, 200);
    let pdf_path = dir.path().join("book.pdf");
    std::fs::write(&pdf_path, &pdf).expect("write");
    let out = std::process::Command::new("pdfimages")
        .arg("-list")
        .arg(&pdf_path)
        .output()
        .expect("pdfimages");
    let list = String::from_utf8_lossy(&out.stdout).into_owned();
    let page1 = list
        .lines()
        .skip(2)
        .find(|l| l.split_whitespace().next() == Some("1"));
    assert!(page1.is_some(), "no image on page 1: {list}");

    // DOCX: the image under word/media/, and LibreOffice opens the file.
    let (s, docx) = raw(&a, "GET", &format!("/api/v1/books/{id}/export/docx"), None).await;
    assert_eq!(s, 200);
    let media: Vec<String> = unzip(&docx)
        .into_iter()
        .map(|(n, _)| n)
        .filter(|n| n.starts_with("word/media/"))
        .collect();
    assert!(!media.is_empty(), "no media in the DOCX");
    let docx_path = dir.path().join("book.docx");
    std::fs::write(&docx_path, &docx).expect("write");
    let out = std::process::Command::new("soffice")
        .arg(format!(
            "-env:UserInstallation=file://{}/lo",
            dir.path().display()
        ))
        .args(["--headless", "--convert-to", "pdf", "--outdir"])
        .arg(dir.path().join("lo-out"))
        .arg(&docx_path)
        .output()
        .expect("soffice runs");
    assert!(
        dir.path().join("lo-out/book.pdf").exists(),
        "LibreOffice: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A new cover: the exports are rendered again with it.
    let res = a
        .api(
            "PUT",
            &format!("/api/v1/books/{id}/cover/design"),
            Some(serde_json::json!({"template": "typographic", "title": "Otro título"})),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let (_, epub2) = raw(&a, "GET", &format!("/api/v1/books/{id}/export/epub"), None).await;
    let cover_of = |files: Vec<(String, Vec<u8>)>| {
        files
            .into_iter()
            .find(|(n, _)| n.ends_with("cover.jpg"))
            .map(|(_, b)| b)
    };
    assert_ne!(
        cover_of(unzip(&epub2)),
        cover_of(files),
        "the EPUB carries the new cover"
    );
}
