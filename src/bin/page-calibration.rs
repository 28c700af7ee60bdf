//! Measures how many words fill a printed page of Buko's PDF export (the layout of
//! `export/src/pdf/book.typ`: Libertinus Serif 11 pt on 5.5 × 8.5 in pages, margins 20 / 16 / 19 /
//! 21 mm, justified, 0.6 em leading) in each language, from the offline writer's prose. It renders
//! books of known length through `buko_export` and counts their pages with `pdfinfo` (poppler), then
//! prints the figures kept as constants in `actors/src/layout.rs`:
//!
//! ```text
//! cargo run --bin page-calibration
//! ```
//!
//! Model: pages = front matter (cover, title, copyright, contents) + words ÷ words-per-page + chapters ×
//! the share of a page a chapter opening leaves blank (a chapter starts on a new page, 16 mm down).

use std::process::Command;

use buko::llm::offline_text::chunk_text;
use buko_actors::{Language, RequestContext};
use buko_export::{render, BookDoc, ChapterDoc, Format};

fn book(language: Language, chapters: usize, words: u32) -> BookDoc {
    BookDoc {
        id: "calibration".into(),
        title: "Calibration".into(),
        subtitle: String::new(),
        author: "Buko".into(),
        language,
        synopsis: String::new(),
        dedication: String::new(),
        copyright: String::new(),
        is_demo: false,
        date: chrono::NaiveDate::default(),
        chapters: (0..chapters)
            .map(|i| ChapterDoc {
                title: format!("Chapter {}", i + 1),
                text: chunk_text(&RequestContext {
                    language,
                    book_title: Some("Calibration".into()),
                    chapter_title: Some(format!("Chapter {}", i + 1)),
                    seq: Some(i as i64 + 1),
                    chapter_index: Some(i),
                    word_budget: Some(words),
                    ..RequestContext::default()
                }),
            })
            .collect(),
    }
}

/// (pages, words) of the rendered book.
fn measure(doc: &BookDoc) -> Result<(u32, usize), String> {
    let pdf = render(doc, Format::Pdf).map_err(|e| e.to_string())?;
    let path = std::env::temp_dir().join(format!("buko-calibration-{}.pdf", std::process::id()));
    std::fs::write(&path, pdf).map_err(|e| e.to_string())?;
    let out = Command::new("pdfinfo")
        .arg(&path)
        .output()
        .map_err(|e| format!("pdfinfo: {e}"))?;
    let _ = std::fs::remove_file(&path);
    let info = String::from_utf8_lossy(&out.stdout);
    let pages = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|p| p.trim().parse().ok())
        .ok_or("pdfinfo gave no page count")?;
    let words = doc
        .chapters
        .iter()
        .map(|c| c.text.split_whitespace().count())
        .sum();
    Ok((pages, words))
}

/// The book the app writes offline for `pages` pages: the offline writer's architecture fitted by the
/// current constants, each chapter's text as the offline writer writes it.
fn offline_book(language: Language, pages: u32) -> BookDoc {
    let mut arch = buko::llm::offline::architecture(&RequestContext {
        language,
        idea: Some("A cartographer maps a city that moves at night".into()),
        target_pages: Some(pages),
        ..RequestContext::default()
    });
    buko_actors::layout::fit_to_pages(&mut arch, pages);
    let mut doc = book(language, 0, 0);
    doc.title = arch.title.clone();
    doc.chapters = arch
        .chapters
        .iter()
        .enumerate()
        .map(|(i, c)| ChapterDoc {
            title: c.title.clone(),
            text: chunk_text(&RequestContext {
                language,
                book_id: Some("calibration".into()),
                book_title: Some(arch.title.clone()),
                chapter_title: Some(c.title.clone()),
                key_points: c.key_points.clone(),
                seq: Some(i as i64 + 1),
                chapter_index: Some(i),
                part_index: Some(0),
                word_budget: Some(c.target_words),
                ..RequestContext::default()
            }),
        })
        .collect();
    doc
}

fn main() -> Result<(), String> {
    for language in Language::ALL {
        // A whole offline book as the app writes it: the words per page of its prose, with the
        // front matter and chapter openings counted apart.
        let doc = offline_book(language, 300);
        let chapters = doc.chapters.len() as f64;
        let (pages, words) = measure(&doc)?;
        let prose_pages = f64::from(pages)
            - buko_actors::layout::FRONT_MATTER_PAGES
            - chapters * buko_actors::layout::CHAPTER_OPENING_PAGES;
        println!(
            "{}: an offline book for 300 pages ({chapters} chapters, {words} words) → {pages} pages; \
             its prose fills {:.1} words a page",
            language.code(),
            words as f64 / prose_pages
        );
        // Few long chapters: pages ≈ words / wpp. Many short ones: the chapter openings show.
        let (one, _) = measure(&book(language, 1, 100))?;
        let (long_pages, long_words) = measure(&book(language, 6, 10_000))?;
        let (short_pages, short_words) = measure(&book(language, 60, 1_000))?;
        let front = f64::from(one - 1);
        // Same words in both: the 54 extra chapters explain the extra pages.
        let opening = (f64::from(short_pages) - f64::from(long_pages)) / 54.0;
        let wpp = long_words as f64 / (f64::from(long_pages) - front - 6.0 * opening);
        println!(
            "{}: front matter {front} pages; 6 × 10000 words ({long_words}) → {long_pages} pages; \
             60 × 1000 words ({short_words}) → {short_pages} pages; words per page {wpp:.1}; \
             a chapter opening adds {opening:.2} page",
            language.code()
        );
    }
    Ok(())
}
