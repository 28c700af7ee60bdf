//! Cover timings: the offline generator (art + JPEG, what the provider hands over) and the final
//! render (1600×2560 over art, wrapped and shrunk text, JPEG + thumbnail). Prints medians of N runs.
//!
//! `cargo run -p buko-export --example cover_bench -- [runs]` (`COVER_OUT=dir` also writes one cover per
//! layout there, to look at).

use std::time::{Duration, Instant};

use buko_export::cover::{self, CoverDesign, FontFamily, Rgb, Template};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(15);
    // Warm-up: font parsing happens once per process.
    let art = cover::offline_art("warm#0", "fantasy", "dark").expect("art");
    let mut offline = Vec::new();
    for i in 0..runs {
        let t = Instant::now();
        let img = cover::offline_art(&format!("book-{i}#0"), "fantasy", "dark").expect("art");
        let jpeg = cover::encode_jpeg(&img, cover::JPEG_QUALITY);
        offline.push(t.elapsed());
        assert!(!jpeg.is_empty());
    }
    let design = CoverDesign {
        template: Template::Band,
        font: FontFamily::Serif,
        title: "La extraordinaria canción del último farero de la costa".into(),
        subtitle: "Una novela de tormentas, mensajes y regresos".into(),
        author: "Ana Pérez Núñez".into(),
        background: Rgb(20, 30, 50),
        text: Rgb(250, 245, 230),
        accent: Rgb(200, 150, 80),
    };
    let _ = cover::render(&design, Some(&art));
    let mut render = Vec::new();
    for t in Template::ALL.iter().cycle().take(runs) {
        let d = CoverDesign {
            template: *t,
            ..design.clone()
        };
        let start = Instant::now();
        let out = cover::render(&d, Some(&art)).expect("render");
        render.push(start.elapsed());
        assert!(!out.jpeg.is_empty() && !out.thumb.is_empty());
        if let Some(dir) = std::env::var_os("COVER_OUT") {
            let path = std::path::Path::new(&dir).join(format!("cover-{}.jpg", t.as_str()));
            std::fs::write(&path, &out.jpeg).expect("write the cover");
            let small =
                image::imageops::thumbnail(&cover::decode(&out.jpeg).expect("jpeg"), 400, 640);
            small
                .save(path.with_extension("png"))
                .expect("write a PNG to look at");
        }
    }
    // The parts: encoding the 1600×2560 JPEG, and the thumbnail.
    let full =
        cover::decode(&cover::render(&design, Some(&art)).expect("render").jpeg).expect("jpeg");
    let (mut enc, mut thumb) = (Vec::new(), Vec::new());
    for _ in 0..runs.min(7) {
        let t = Instant::now();
        let _ = cover::encode_jpeg(&full, cover::JPEG_QUALITY);
        enc.push(t.elapsed());
        let t = Instant::now();
        let _ = cover::thumbnail_jpeg(&full);
        thumb.push(t.elapsed());
    }
    println!(
        "parts: JPEG 1600×2560 median {:.1} ms; thumbnail median {:.1} ms",
        median(enc).as_secs_f64() * 1000.0,
        median(thumb).as_secs_f64() * 1000.0
    );
    println!(
        "runs {runs}: offline art median {:.1} ms; cover render median {:.1} ms",
        median(offline).as_secs_f64() * 1000.0,
        median(render).as_secs_f64() * 1000.0
    );
}
