//! Downloads of a book, by format. Only Markdown is built here; the exports crate adds the other
//! formats as more arms of [`render`], so the page and API routes (`…/export/{fmt}`) stay unchanged.

use actix_web::http::header;
use actix_web::HttpResponse;

use crate::db::repo::books::Book;
use crate::db::repo::chapters::ChapterText;
use crate::error::AppError;

/// A rendered file.
pub struct ExportFile {
    pub content_type: &'static str,
    pub extension: &'static str,
    pub bytes: Vec<u8>,
}

/// Renders `fmt` for the book; an unknown format is a 404.
pub fn render(fmt: &str, book: &Book, chapters: &[ChapterText]) -> Result<ExportFile, AppError> {
    match fmt {
        "md" => Ok(ExportFile {
            content_type: "text/markdown; charset=utf-8",
            extension: "md",
            bytes: markdown(book, chapters).into_bytes(),
        }),
        _ => Err(AppError::NotFound),
    }
}

pub fn markdown(book: &Book, chapters: &[ChapterText]) -> String {
    let arch = book.architecture();
    let mut out = format!("# {}\n\n", book.display_title().trim());
    if let Some(sub) = arch
        .as_ref()
        .map(|a| a.subtitle.trim())
        .filter(|s| !s.is_empty())
    {
        out.push_str(&format!("*{sub}*\n\n"));
    }
    if book.is_demo {
        let notice = if book.language == "es" {
            "Texto de demostración generado sin conexión, no por un modelo de lenguaje."
        } else {
            "Offline demo text, not written by a language model."
        };
        out.push_str(&format!("> {notice}\n\n"));
    }
    for ch in chapters {
        out.push_str(&format!("## {}\n\n", ch.title.trim()));
        if !ch.content.trim().is_empty() {
            out.push_str(ch.content.trim());
            out.push_str("\n\n");
        }
    }
    out
}

/// The file as a download with a safe ASCII file name derived from the title.
pub fn attachment(book: &Book, file: ExportFile) -> HttpResponse {
    let cleaned: String = book
        .display_title()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let stem: String = cleaned
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-")
        .chars()
        .take(60)
        .collect();
    let stem = if stem.is_empty() {
        "book".to_string()
    } else {
        stem
    };
    HttpResponse::Ok()
        .content_type(file.content_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{stem}.{}\"", file.extension),
        ))
        .body(file.bytes)
}
