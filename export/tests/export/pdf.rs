//! PDF: poppler reads it, the page count fits a book of that length, and the
//! extracted text keeps the titles and every Spanish character.

use buko_export::{Format, Language};

use crate::fixtures::{chapter_title, SPANISH_CHARS};
use crate::helpers::{pdf_pages, pdf_text, rendered, squash, Sample};

#[test]
fn short_books_have_front_matter_and_chapters() {
    for lang in [Language::Es, Language::En] {
        let path = rendered(Sample::Short(lang), Format::Pdf);
        let pages = pdf_pages(&path);
        // cover, title, copyright, contents + two chapters of ~900 words.
        assert!((8..=14).contains(&pages), "{lang:?}: {pages} pages");
        let raw = pdf_text(&path);
        if lang == Language::Es {
            for c in SPANISH_CHARS {
                assert!(raw.contains(c), "short book: pdftotext lost {c:?}");
            }
        }
        let text = squash(&raw);
        let doc = Sample::Short(lang).doc();
        assert!(text.contains(&squash(&doc.title)), "title missing");
        assert!(text.contains(&squash(&doc.author)), "author missing");
        assert!(
            text.contains(&squash(&chapter_title(lang, 2))),
            "chapter title missing"
        );
        let demo = if lang == Language::Es {
            "Textodedemostraciónsinconexión"
        } else {
            "Offlinedemotext"
        };
        assert!(text.contains(demo), "{lang:?}: demo notice missing");
    }
}

#[test]
fn long_spanish_book_is_a_plausible_book() {
    let path = rendered(Sample::Long(Language::Es), Format::Pdf);
    let pages = pdf_pages(&path);
    assert!(
        (250..=450).contains(&pages),
        "{pages} pages for ~80,000 words"
    );
    let raw = pdf_text(&path);
    for c in SPANISH_CHARS {
        assert!(raw.contains(c), "pdftotext lost {c:?}");
    }
    let text = squash(&raw);
    // The contents page lists the last chapter, and the chapter itself is there.
    assert!(
        text.matches(&squash(&chapter_title(Language::Es, 60)))
            .count()
            >= 2
    );
    assert!(text.contains("Índice"));
    // Bookmarks: one outline item per chapter, and the document language.
    let bytes = std::fs::read(&path).expect("read pdf");
    let raw = String::from_utf8_lossy(&bytes);
    assert!(raw.contains("/Outlines"), "no PDF outline");
    assert!(
        raw.matches("/Title<FEFF").count() >= 60,
        "fewer bookmarks than chapters"
    );
    assert!(raw.contains("/Lang(es)"), "no document language");
}

#[test]
fn long_english_book_is_a_plausible_book() {
    let path = rendered(Sample::Long(Language::En), Format::Pdf);
    let pages = pdf_pages(&path);
    assert!(
        (250..=450).contains(&pages),
        "{pages} pages for ~80,000 words"
    );
    let text = squash(&pdf_text(&path));
    assert!(text.contains(&squash(&chapter_title(Language::En, 60))));
    assert!(text.contains("Zoë") && text.contains("café") && text.contains("“"));
}

#[test]
fn hostile_title_is_printed_not_interpreted() {
    let path = rendered(Sample::Hostile, Format::Pdf);
    let text = squash(&pdf_text(&path));
    let doc = Sample::Hostile.doc();
    assert!(
        text.contains(&squash(&doc.title)),
        "title not shown verbatim:\n{text}"
    );
    assert!(
        text.contains(&squash(&doc.chapters[0].title)),
        "chapter title not verbatim"
    );
    assert!(
        text.contains(&squash("#import “x.typ”: * \\ `raw` $x$ <tag> @ref")),
        "markup in prose not literal"
    );
}

#[test]
fn characters_outside_the_fonts_do_not_fail_the_export() {
    // Models sometimes emit emoji or CJK; the bundled fonts lack them. That
    // must degrade to a missing glyph, not a failed download.
    let mut doc = crate::fixtures::book(Language::En, 1, 50);
    doc.chapters[0]
        .text
        .push_str("\n\nShe smiled 😊 and wrote 東京 → ∞.");
    let pdf = buko_export::render(&doc, Format::Pdf).expect("render with emoji");
    assert!(pdf.starts_with(b"%PDF-"));
}

#[test]
fn warm_up_renders() {
    buko_export::warm_up().expect("warm-up render");
}
