//! The book as the JSON document the typst template reads. Runs are compact
//! `[text, style]` pairs (style bit 1 = italic, bit 2 = bold) because a long
//! book has tens of thousands of them and typst parses this on every export.

use serde::Serialize;

use crate::labels::Labels;
use crate::model::{Block, Book, Run};

#[derive(Serialize)]
struct BookData<'a> {
    title: &'a str,
    subtitle: Option<&'a str>,
    author: &'a str,
    lang: &'static str,
    synopsis: Option<&'a str>,
    dedication: Option<&'a str>,
    demo: bool,
    /// `/cover.jpg` exists: the first page is that image, full-bleed.
    cover: bool,
    labels: LabelData<'a>,
    chapters: Vec<ChapterData<'a>>,
}

#[derive(Serialize)]
struct LabelData<'a> {
    contents: &'a str,
    by: &'a str,
    about: &'a str,
    demo: &'a str,
    copyright: String,
    edition: String,
    identifier: String,
    made_with: &'a str,
}

#[derive(Serialize)]
struct ChapterData<'a> {
    title: &'a str,
    label: Option<String>,
    blocks: Vec<BlockData<'a>>,
}

/// Serialized as a tuple: `["p", runs]`, `["h", runs]`, `["b"]`.
#[derive(Serialize)]
#[serde(untagged)]
enum BlockData<'a> {
    Text(&'static str, Vec<(&'a str, u8)>),
    Break((&'static str,)),
}

fn runs(runs: &[Run]) -> Vec<(&str, u8)> {
    runs.iter()
        .map(|r| {
            (
                r.text.as_str(),
                u8::from(r.italic) | (u8::from(r.bold) << 1),
            )
        })
        .collect()
}

pub fn book_json(book: &Book) -> serde_json::Result<Vec<u8>> {
    let labels = Labels::for_language(book.language);
    let data = BookData {
        title: &book.title,
        subtitle: book.subtitle.as_deref(),
        author: &book.author,
        lang: book.language.code(),
        synopsis: book.synopsis.as_deref(),
        dedication: book.dedication.as_deref(),
        demo: book.is_demo,
        cover: book.cover_jpeg.is_some(),
        labels: LabelData {
            contents: labels.contents,
            by: labels.by,
            about: labels.about,
            demo: labels.demo_notice,
            copyright: labels.copyright_line(book),
            edition: labels.edition_line(book),
            identifier: format!("{}: {}", labels.identifier, book.id),
            made_with: labels.made_with,
        },
        chapters: book
            .chapters
            .iter()
            .map(|ch| ChapterData {
                title: &ch.title,
                label: labels.chapter_label(ch.number, &ch.title),
                blocks: ch
                    .blocks
                    .iter()
                    .map(|b| match b {
                        Block::Paragraph(r) => BlockData::Text("p", runs(r)),
                        Block::Heading(r) => BlockData::Text("h", runs(r)),
                        Block::SceneBreak => BlockData::Break(("b",)),
                    })
                    .collect(),
            })
            .collect(),
    };
    serde_json::to_vec(&data)
}
