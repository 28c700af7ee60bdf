//! DOCX: LibreOffice opens every rendered DOCX (one soffice process for all,
//! its start-up is the slow part) and its PDF shows the chapter titles and
//! the Spanish text; the package has the bookmarks the contents link to.

use std::io::Read;

use buko_export::{Format, Language};

use crate::fixtures::chapter_title;
use crate::helpers::{docx_to_pdf, pdf_pages, pdf_text, rendered, squash, Sample};

fn part(path: &std::path::Path, name: &str) -> (String, zip::CompressionMethod) {
    let file = std::fs::File::open(path).expect("open docx");
    let mut zip = zip::ZipArchive::new(file).expect("docx is a zip");
    let mut entry = zip
        .by_name(name)
        .unwrap_or_else(|_| panic!("{name} in docx"));
    let mut s = String::new();
    entry.read_to_string(&mut s).expect("utf-8 part");
    (s, entry.compression())
}

fn document_xml(path: &std::path::Path) -> String {
    part(path, "word/document.xml").0
}

#[test]
fn libreoffice_opens_every_docx() {
    let samples = [
        Sample::Short(Language::Es),
        Sample::Short(Language::En),
        Sample::Long(Language::Es),
        Sample::Long(Language::En),
        Sample::Hostile,
    ];
    let docx: Vec<_> = samples.iter().map(|&s| rendered(s, Format::Docx)).collect();
    let pdfs = docx_to_pdf(&docx);
    for (sample, pdf) in samples.iter().zip(&pdfs) {
        let text = pdf_text(pdf);
        let flat = squash(&text);
        let doc = sample.doc();
        assert!(
            flat.contains(&squash(&doc.title)),
            "{sample:?}: title missing"
        );
        let last = doc.chapters.last().expect("chapters");
        assert!(
            flat.contains(&squash(&last.title)),
            "{sample:?}: last chapter title missing"
        );
        if let Sample::Long(lang) = sample {
            let pages = pdf_pages(pdf);
            assert!((200..=600).contains(&pages), "{sample:?}: {pages} pages");
            if *lang == Language::Es {
                for c in [
                    'á', 'é', 'í', 'ó', 'ú', 'ü', 'ñ', '¿', '¡', '«', '»', '—', '“', '”',
                ] {
                    assert!(text.contains(c), "LibreOffice text lost {c:?}");
                }
            }
        }
    }
}

#[test]
fn contents_link_to_chapter_bookmarks() {
    let xml = document_xml(&rendered(Sample::Long(Language::Es), Format::Docx));
    for n in 1..=60 {
        assert!(
            xml.contains(&format!("w:anchor=\"chapter_{n}\"")),
            "no link to chapter {n}"
        );
        assert!(
            xml.contains(&format!("w:name=\"chapter_{n}\"")),
            "no bookmark for chapter {n}"
        );
    }
    assert!(xml.contains(&chapter_title(Language::Es, 60)));
    assert!(
        !xml.contains("TOC \\"),
        "no Word TOC field: LibreOffice shows it raw"
    );
}

#[test]
fn hostile_text_is_escaped_xml() {
    let xml = document_xml(&rendered(Sample::Hostile, Format::Docx));
    assert!(xml.contains("&lt;script&gt;&amp;"), "title not escaped");
    assert!(!xml.contains("<script>"));
}

#[test]
fn package_is_compressed_and_declares_language_and_hyphenation() {
    let path = rendered(Sample::Long(Language::Es), Format::Docx);
    let (_, method) = part(&path, "word/document.xml");
    assert_eq!(method, zip::CompressionMethod::Deflated);
    let (styles, _) = part(&path, "word/styles.xml");
    assert!(styles.contains("<w:lang w:val=\"es-ES\""), "{styles}");
    let (settings, _) = part(&path, "word/settings.xml");
    assert!(settings.contains("<w:autoHyphenation />"), "{settings}");
    let (styles_en, _) = part(
        &rendered(Sample::Short(Language::En), Format::Docx),
        "word/styles.xml",
    );
    assert!(styles_en.contains("<w:lang w:val=\"en-US\""));
}
