//! DOCX export through docx-rs. Owns the Word styles (body, first paragraph,
//! chapter heading, front matter), the cover/title/copyright pages and a
//! hand-built table of contents: hyperlinks to one bookmark per chapter,
//! because Word's TOC field shows as raw field codes in LibreOffice until the
//! reader updates it. docx-rs escapes all text it is given.

use std::io::Cursor;

use docx_rs::{
    AlignmentType, Docx, Footer, Hyperlink, HyperlinkType, LineSpacing, PageMargin, PageNum,
    Paragraph, Pic, Run, RunFonts, SpecialIndentType, Style, StyleType,
};

use crate::labels::Labels;
use crate::model::{Block, Book, Chapter};
use crate::ExportError;

/// Twentieths of a point per inch: page geometry is in twips.
const INCH: u32 = 1440;
const FONT: &str = "Georgia";
// Sizes are in half-points.
const BODY_SIZE: usize = 22;

pub fn render(book: &Book) -> Result<Vec<u8>, ExportError> {
    let labels = Labels::for_language(book.language);
    let fonts = RunFonts::new()
        .ascii(FONT)
        .hi_ansi(FONT)
        .cs(FONT)
        .east_asia(FONT);
    // 5.5 × 8.5 in like the PDF, with a wider inside margin.
    let mut docx = Docx::new()
        .page_size(INCH * 11 / 2, INCH * 17 / 2)
        .page_margin(
            PageMargin::new()
                .top(1080)
                .bottom(1080)
                .left(1130)
                .right(910)
                .header(560)
                .footer(560),
        )
        .default_fonts(fonts.clone())
        .default_size(BODY_SIZE)
        // A distinct (empty) first-page footer: no page number on the cover.
        .title_pg()
        .footer(
            Footer::new().add_paragraph(
                Paragraph::new()
                    .align(AlignmentType::Center)
                    .add_page_num(PageNum::new()),
            ),
        );
    for style in styles(&fonts) {
        docx = docx.add_style(style);
    }

    docx = cover(docx, book);
    docx = title_page(docx, book, labels);
    docx = copyright_page(docx, book, labels);
    docx = contents(docx, book, labels);
    for ch in &book.chapters {
        docx = chapter(docx, ch, labels);
    }

    let mut out = Cursor::new(Vec::new());
    docx.build()
        .pack(&mut out)
        .map_err(|e| ExportError::Docx(e.to_string()))?;
    crate::docx_package::finish(out.into_inner(), book.language)
}

fn styles(fonts: &RunFonts) -> Vec<Style> {
    let spacing = |before: u32, after: u32| LineSpacing::new().before(before).after(after);
    let para = |id: &str, name: &str| {
        Style::new(id, StyleType::Paragraph)
            .name(name)
            .fonts(fonts.clone())
    };
    vec![
        para("BodyText", "Body Text")
            .size(BODY_SIZE)
            .align(AlignmentType::Both)
            .line_spacing(spacing(0, 0).line(300))
            .indent(None, Some(SpecialIndentType::FirstLine(340)), None, None),
        para("BodyFirst", "Body Text First")
            .based_on("BodyText")
            .size(BODY_SIZE)
            .align(AlignmentType::Both)
            .line_spacing(spacing(0, 0).line(300)),
        para("Heading1", "heading 1")
            .size(38)
            .align(AlignmentType::Center)
            .outline_lvl(0)
            .line_spacing(spacing(240, 560)),
        para("Heading2", "heading 2")
            .size(BODY_SIZE)
            .italic()
            .align(AlignmentType::Center)
            .outline_lvl(1)
            .line_spacing(spacing(280, 200)),
        para("ChapterLabel", "Chapter Label")
            .size(17)
            .align(AlignmentType::Center)
            .line_spacing(spacing(1600, 120)),
        para("Title", "Title")
            .size(52)
            .align(AlignmentType::Center)
            .line_spacing(spacing(2400, 240)),
        para("Subtitle", "Subtitle")
            .size(26)
            .italic()
            .align(AlignmentType::Center),
        para("Author", "Author")
            .size(28)
            .align(AlignmentType::Center)
            .line_spacing(spacing(720, 0)),
        para("SceneBreak", "Scene Break")
            .align(AlignmentType::Center)
            .line_spacing(spacing(240, 240)),
        para("Small", "Small Print")
            .size(17)
            .line_spacing(spacing(0, 120)),
        para("TocEntry", "toc 1")
            .size(BODY_SIZE)
            .line_spacing(spacing(0, 100)),
        para("TocHeading", "TOC Heading")
            .size(32)
            .line_spacing(spacing(480, 360)),
    ]
}

fn text_par(style: &str, text: &str) -> Paragraph {
    Paragraph::new()
        .style(style)
        .add_run(Run::new().add_text(text))
}

fn cover(docx: Docx, book: &Book) -> Docx {
    if let Some(png) = book.cover_jpeg.as_deref().and_then(crate::cover::docx_png) {
        // The rendered cover fills the first page's text area (5.5 × 8.5 in less the margins).
        let (w, h) = (png.1, png.2);
        let pic =
            Pic::new_with_dimensions(png.0, w, h).size(DOCX_COVER_W_EMU, DOCX_COVER_W_EMU / w * h);
        return docx.add_paragraph(
            Paragraph::new()
                .align(AlignmentType::Center)
                .add_run(Run::new().add_image(pic)),
        );
    }
    let mut docx = docx.add_paragraph(
        Paragraph::new()
            .style("Title")
            .add_run(Run::new().add_text(&book.title).bold()),
    );
    if let Some(subtitle) = &book.subtitle {
        docx = docx.add_paragraph(text_par("Subtitle", subtitle));
    }
    docx.add_paragraph(text_par("SceneBreak", "———"))
        .add_paragraph(text_par("Author", &book.author))
}

/// Width of the cover image: 4 in (the page is 5.5 in with about 1.4 in of margins).
const DOCX_COVER_W_EMU: u32 = 914_400 * 4;

fn title_page(docx: Docx, book: &Book, labels: &Labels) -> Docx {
    let mut docx = docx.add_paragraph(text_par("Title", &book.title).page_break_before(true));
    if let Some(subtitle) = &book.subtitle {
        docx = docx.add_paragraph(text_par("Subtitle", subtitle));
    }
    docx.add_paragraph(text_par("Author", labels.by))
        .add_paragraph(text_par("Author", &book.author))
}

fn copyright_page(docx: Docx, book: &Book, labels: &Labels) -> Docx {
    // Push the small print down the page, as printed books do.
    let mut docx = docx.add_paragraph(
        Paragraph::new()
            .page_break_before(true)
            .line_spacing(LineSpacing::new().before(INCH * 3)),
    );
    if let Some(dedication) = &book.dedication {
        docx = docx.add_paragraph(
            Paragraph::new()
                .style("Small")
                .add_run(Run::new().add_text(dedication).italic()),
        );
    }
    if let Some(synopsis) = &book.synopsis {
        docx = docx
            .add_paragraph(
                Paragraph::new()
                    .style("Small")
                    .add_run(Run::new().add_text(labels.about).bold()),
            )
            .add_paragraph(text_par("Small", synopsis));
    }
    if book.is_demo {
        docx = docx.add_paragraph(
            Paragraph::new()
                .style("Small")
                .add_run(Run::new().add_text(labels.demo_notice).italic()),
        );
    }
    docx.add_paragraph(text_par("Small", &labels.copyright_line(book)))
        .add_paragraph(text_par("Small", &labels.edition_line(book)))
        .add_paragraph(text_par(
            "Small",
            &format!("{}: {}", labels.identifier, book.id),
        ))
        .add_paragraph(text_par("Small", labels.made_with))
}

fn bookmark(ch: &Chapter) -> String {
    format!("chapter_{}", ch.number)
}

fn contents(docx: Docx, book: &Book, labels: &Labels) -> Docx {
    let mut docx =
        docx.add_paragraph(text_par("TocHeading", labels.contents).page_break_before(true));
    for ch in &book.chapters {
        let link = Hyperlink::new(bookmark(ch), HyperlinkType::Anchor)
            .add_run(Run::new().add_text(format!("{}.  {}", ch.number, ch.title)));
        docx = docx.add_paragraph(Paragraph::new().style("TocEntry").add_hyperlink(link));
    }
    docx
}

fn chapter(docx: Docx, ch: &Chapter, labels: &Labels) -> Docx {
    let label = labels
        .chapter_label(ch.number, &ch.title)
        .unwrap_or_default();
    let mut docx = docx.add_paragraph(
        Paragraph::new()
            .style("ChapterLabel")
            .page_break_before(true)
            .keep_next(true)
            .add_run(
                Run::new()
                    .add_text(label.to_uppercase())
                    .character_spacing(40),
            ),
    );
    docx = docx.add_paragraph(
        Paragraph::new()
            .style("Heading1")
            .keep_next(true)
            .add_bookmark_start(ch.number, bookmark(ch))
            .add_run(Run::new().add_text(&ch.title))
            .add_bookmark_end(ch.number),
    );
    let mut first = true;
    for block in &ch.blocks {
        match block {
            Block::Paragraph(runs) => {
                let style = if first { "BodyFirst" } else { "BodyText" };
                docx = docx.add_paragraph(styled_runs(Paragraph::new().style(style), runs));
                first = false;
            }
            Block::Heading(runs) => {
                docx = docx.add_paragraph(styled_runs(
                    Paragraph::new().style("Heading2").keep_next(true),
                    runs,
                ));
                first = true;
            }
            Block::SceneBreak => {
                docx = docx.add_paragraph(text_par("SceneBreak", "*   *   *"));
                first = true;
            }
        }
    }
    docx
}

fn styled_runs(mut p: Paragraph, runs: &[crate::model::Run]) -> Paragraph {
    for r in runs {
        let mut run = Run::new().add_text(&r.text);
        if r.italic {
            run = run.italic();
        }
        if r.bold {
            run = run.bold();
        }
        p = p.add_run(run);
    }
    p
}
