//! Markdown: parsed back by a CommonMark parser, the level-2 headings are
//! exactly the chapter titles (hostile ones included) and the front matter
//! carries the metadata.

use buko_export::{render, Format, Language};
use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use crate::helpers::Sample;

/// The text of every `## ` heading, as a CommonMark renderer shows it.
fn h2_texts(md: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    // Front matter is read as metadata, as static-site tools and pandoc do.
    for event in Parser::new_ext(md, Options::ENABLE_YAML_STYLE_METADATA_BLOCKS) {
        match event {
            Event::Start(Tag::Heading {
                level: HeadingLevel::H2,
                ..
            }) => current = Some(String::new()),
            Event::End(TagEnd::Heading(HeadingLevel::H2)) => out.extend(current.take()),
            Event::Text(t) | Event::Code(t) => {
                if let Some(c) = current.as_mut() {
                    c.push_str(&t);
                }
            }
            _ => {}
        }
    }
    out
}

fn markdown(sample: Sample) -> String {
    let bytes = render(&sample.doc(), Format::Markdown).expect("render markdown");
    String::from_utf8(bytes).expect("markdown is UTF-8")
}

#[test]
fn chapter_titles_round_trip() {
    for sample in [
        Sample::Short(Language::Es),
        Sample::Long(Language::En),
        Sample::Hostile,
    ] {
        let doc = sample.doc();
        let expected: Vec<String> = doc.chapters.iter().map(|c| c.title.clone()).collect();
        assert_eq!(h2_texts(&markdown(sample)), expected, "{sample:?}");
    }
}

#[test]
fn front_matter_and_front_pages() {
    let md = markdown(Sample::Long(Language::Es));
    assert!(
        md.starts_with("---\ntitle: \"El último faro de Añón\"\n"),
        "{}",
        &md[..200]
    );
    assert!(md.contains("\nlang: es\n") && md.contains("\ndemo: true\n"));
    assert!(md.contains("\n# El último faro de Añón\n"));
    assert!(md.contains("**Índice**\n\n1. La señal número 1"));
    assert!(md.contains("Texto de demostración sin conexión"));
    assert!(md.contains("© 2026 Begoña Núñez Ibáñez"));
    let words = md.split_whitespace().count();
    assert!(words > 75_000, "long book has {words} words");
}
