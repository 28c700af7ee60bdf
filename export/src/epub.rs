//! EPUB 3 export through epub-builder (pinned =0.8.2: 0.8.3 fails epubcheck).
//! Owns the XHTML of the cover, title, copyright and chapter pages and the
//! stylesheet; epub-builder writes the package, nav and NCX. All book text
//! goes through `xml_escape`; metadata through epub-builder's own escaping.

use std::fmt::Write as _;

use chrono::{NaiveTime, TimeZone, Utc};
use epub_builder::{EpubBuilder, EpubContent, EpubVersion, ReferenceType, ZipLibrary};

use crate::labels::Labels;
use crate::model::{Block, Book, Run};
use crate::text::xml_escape;
use crate::ExportError;

const CSS: &str = include_str!("epub.css");

pub fn render(book: &Book) -> Result<Vec<u8>, ExportError> {
    build(book).map_err(|e| ExportError::Epub(e.to_string()))
}

fn build(book: &Book) -> epub_builder::Result<Vec<u8>> {
    let labels = Labels::for_language(book.language);
    let mut epub = EpubBuilder::new(ZipLibrary::new()?)?;
    epub.epub_version(EpubVersion::V30);
    epub.set_title(book.title.as_str());
    epub.add_author(book.author.as_str());
    epub.set_lang(book.language.code());
    epub.set_generator("Buko");
    epub.set_toc_name(labels.contents);
    if let Some(synopsis) = &book.synopsis {
        epub.add_description(synopsis.as_str());
    }
    epub.set_license(labels.copyright_line(book));
    epub.set_uuid(book_uuid(&book.id));
    // The book's date, not "now": the same book gives the same bytes.
    let stamp = Utc.from_utc_datetime(&book.date.and_time(NaiveTime::MIN));
    epub.set_publication_date(stamp);
    epub.set_modified_date(stamp);
    epub.stylesheet(CSS.as_bytes())?;
    // A raster cover when the book has one (every reader shows a JPEG; some ignore an SVG cover).
    match &book.cover_jpeg {
        Some(jpeg) => epub.add_cover_image(COVER_JPEG, jpeg.as_slice(), "image/jpeg")?,
        None => epub.add_cover_image(
            COVER_SVG,
            crate::epub_cover::svg(book).as_bytes(),
            "image/svg+xml",
        )?,
    };

    // Front matter pages get no TOC title: the reader's contents list only
    // the chapters; they still carry their landmark type.
    let front = [
        (
            "cover.xhtml",
            ReferenceType::Cover,
            cover_body(book, labels),
        ),
        (
            "title.xhtml",
            ReferenceType::TitlePage,
            title_body(book, labels),
        ),
        (
            "copyright.xhtml",
            ReferenceType::Copyright,
            copyright_body(book, labels),
        ),
    ];
    for (file, kind, body) in front {
        let page = xhtml_page(book, &book.title, &body);
        epub.add_content(EpubContent::new(file, page.as_bytes()).reftype(kind))?;
    }
    epub.inline_toc();

    for ch in &book.chapters {
        let page = xhtml_page(book, &ch.title, &chapter_body(ch, labels));
        let mut content =
            EpubContent::new(format!("chapter_{:03}.xhtml", ch.number), page.as_bytes())
                .title(ch.title.as_str());
        if ch.number == 1 {
            content = content.reftype(ReferenceType::Text);
        }
        epub.add_content(content)?;
    }

    let mut out = Vec::new();
    epub.generate(&mut out)?;
    Ok(out)
}

/// The EPUB identifier: the book id when it is a UUID, else a name-based
/// UUID of it, so the same book always keeps the same identifier.
fn book_uuid(id: &str) -> uuid::Uuid {
    uuid::Uuid::parse_str(id)
        .unwrap_or_else(|_| uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, id.as_bytes()))
}

fn xhtml_page(book: &Book, title: &str, body: &str) -> String {
    let lang = book.language.code();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE html>\n\
         <html xmlns=\"http://www.w3.org/1999/xhtml\" xmlns:epub=\"http://www.idpf.org/2007/ops\" \
         xml:lang=\"{lang}\" lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\"/>\n\
         <title>{}</title>\n\
         <link rel=\"stylesheet\" type=\"text/css\" href=\"stylesheet.css\"/>\n</head>\n\
         {body}</html>\n",
        xml_escape(title)
    )
}

const COVER_JPEG: &str = "cover.jpg";
const COVER_SVG: &str = "cover.svg";

/// The cover page shows the cover image; its `alt` carries the title and
/// author for screen readers.
fn cover_body(book: &Book, labels: &Labels) -> String {
    let alt = format!("{} — {} {}", book.title, labels.by, book.author);
    format!(
        "<body class=\"cover\" epub:type=\"cover\">\n<section class=\"cover-page\">\n\
         <img class=\"cover-image\" src=\"{}\" alt=\"{}\"/>\n</section>\n</body>\n",
        if book.cover_jpeg.is_some() {
            COVER_JPEG
        } else {
            COVER_SVG
        },
        xml_escape(&alt)
    )
}

fn title_body(book: &Book, labels: &Labels) -> String {
    let mut s = String::from("<body epub:type=\"frontmatter\">\n<section class=\"title-page\" epub:type=\"titlepage\">\n");
    let _ = writeln!(s, "<h1 class=\"title\">{}</h1>", xml_escape(&book.title));
    if let Some(subtitle) = &book.subtitle {
        let _ = writeln!(s, "<p class=\"subtitle\">{}</p>", xml_escape(subtitle));
    }
    let _ = writeln!(s, "<p class=\"by\">{}</p>", labels.by);
    let _ = writeln!(s, "<p class=\"author\">{}</p>", xml_escape(&book.author));
    s.push_str("</section>\n</body>\n");
    s
}

fn copyright_body(book: &Book, labels: &Labels) -> String {
    let mut s = String::from("<body epub:type=\"frontmatter\">\n<section class=\"copyright-page\" epub:type=\"copyright-page\">\n");
    if let Some(dedication) = &book.dedication {
        let _ = writeln!(
            s,
            "<p class=\"dedication\" epub:type=\"dedication\"><em>{}</em></p>",
            xml_escape(dedication)
        );
    }
    if let Some(synopsis) = &book.synopsis {
        let _ = writeln!(
            s,
            "<h2>{}</h2>\n<p class=\"synopsis\">{}</p>",
            labels.about,
            xml_escape(synopsis)
        );
    }
    if book.is_demo {
        let _ = writeln!(
            s,
            "<p class=\"demo-notice\">{}</p>",
            xml_escape(labels.demo_notice)
        );
    }
    let _ = writeln!(s, "<p>{}</p>", xml_escape(&labels.copyright_line(book)));
    let _ = writeln!(s, "<p>{}</p>", xml_escape(&labels.edition_line(book)));
    let _ = writeln!(s, "<p>{}: {}</p>", labels.identifier, xml_escape(&book.id));
    let _ = writeln!(s, "<p>{}</p>", labels.made_with);
    s.push_str("</section>\n</body>\n");
    s
}

fn chapter_body(ch: &crate::model::Chapter, labels: &Labels) -> String {
    let mut s = String::with_capacity(ch.blocks.len() * 400);
    s.push_str("<body epub:type=\"bodymatter\">\n<section class=\"chapter\" epub:type=\"chapter\">\n<header>\n");
    if let Some(label) = labels.chapter_label(ch.number, &ch.title) {
        let _ = writeln!(s, "<p class=\"chapter-label\">{}</p>", xml_escape(&label));
    }
    let _ = writeln!(s, "<h1>{}</h1>\n</header>", xml_escape(&ch.title));
    let mut after_break = true;
    for block in &ch.blocks {
        match block {
            Block::Paragraph(runs) => {
                // The first paragraph after a heading or break is not indented.
                s.push_str(if after_break {
                    "<p class=\"first\">"
                } else {
                    "<p>"
                });
                runs_xhtml(runs, &mut s);
                s.push_str("</p>\n");
                after_break = false;
            }
            Block::Heading(runs) => {
                s.push_str("<h2>");
                runs_xhtml(runs, &mut s);
                s.push_str("</h2>\n");
                after_break = true;
            }
            Block::SceneBreak => {
                s.push_str("<hr class=\"scene-break\"/>\n");
                after_break = true;
            }
        }
    }
    s.push_str("</section>\n</body>\n");
    s
}

fn runs_xhtml(runs: &[Run], out: &mut String) {
    for run in runs {
        let text = xml_escape(&run.text);
        match (run.italic, run.bold) {
            (false, false) => out.push_str(&text),
            (true, false) => {
                let _ = write!(out, "<em>{text}</em>");
            }
            (false, true) => {
                let _ = write!(out, "<strong>{text}</strong>");
            }
            (true, true) => {
                let _ = write!(out, "<strong><em>{text}</em></strong>");
            }
        }
    }
}
