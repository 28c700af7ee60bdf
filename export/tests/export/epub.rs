//! EPUB: epubcheck must report no errors or warnings, and the package must
//! carry the language, the chapters and the front matter.

use std::io::Read;

use buko_export::{Format, Language};

use crate::helpers::{assert_epubcheck_clean, rendered, Sample};

fn zip_entry(path: &std::path::Path, name: &str) -> String {
    let file = std::fs::File::open(path).expect("open epub");
    let mut zip = zip::ZipArchive::new(file).expect("epub is a zip");
    let mut entry = zip
        .by_name(name)
        .unwrap_or_else(|_| panic!("{name} in epub"));
    let mut s = String::new();
    entry.read_to_string(&mut s).expect("utf-8 entry");
    s
}

#[test]
fn short_books_pass_epubcheck() {
    for lang in [Language::Es, Language::En] {
        assert_epubcheck_clean(&rendered(Sample::Short(lang), Format::Epub));
    }
}

#[test]
fn long_books_pass_epubcheck() {
    for lang in [Language::Es, Language::En] {
        assert_epubcheck_clean(&rendered(Sample::Long(lang), Format::Epub));
    }
}

#[test]
fn hostile_titles_pass_epubcheck() {
    let path = rendered(Sample::Hostile, Format::Epub);
    assert_epubcheck_clean(&path);
    let opf = zip_entry(&path, "OEBPS/content.opf");
    assert!(
        opf.contains("&lt;script&gt;&amp;"),
        "title not escaped in OPF:\n{opf}"
    );
}

#[test]
fn package_has_language_toc_and_spanish_text() {
    let path = rendered(Sample::Long(Language::Es), Format::Epub);
    let opf = zip_entry(&path, "OEBPS/content.opf");
    assert!(opf.contains("<dc:language>es</dc:language>"), "{opf}");
    assert!(
        opf.contains("urn:uuid:7b0f5a3e-2c1d-4e8f-9a6b-3d2c1b0a9f8e"),
        "{opf}"
    );
    assert!(
        opf.contains("properties=\"cover-image\""),
        "readers need a cover image:\n{opf}"
    );
    assert!(zip_entry(&path, "OEBPS/cover.svg").contains("Añón"));
    let nav = zip_entry(&path, "OEBPS/nav.xhtml");
    for n in 1..=60 {
        assert!(
            nav.contains(&format!("href=\"chapter_{n:03}.xhtml\"")),
            "nav lacks chapter {n}"
        );
    }
    assert!(nav.contains("La señal número 60: ¿dónde está el pingüino?"));
    let copyright = zip_entry(&path, "OEBPS/copyright.xhtml");
    assert!(
        copyright.contains("Texto de demostración sin conexión"),
        "{copyright}"
    );
    let chapter = zip_entry(&path, "OEBPS/chapter_001.xhtml");
    assert!(chapter.contains("xml:lang=\"es\""));
    for c in [
        'á', 'é', 'í', 'ó', 'ú', 'ñ', '¿', '¡', '«', '»', '—', '“', '”',
    ] {
        assert!(chapter.contains(c), "chapter 1 lost {c}");
    }
    assert!(
        chapter.contains("<em>") && chapter.contains("<strong>"),
        "emphasis rendered"
    );
}
