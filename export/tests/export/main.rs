//! Integration tests of the exports, judged by the tools readers use:
//! epubcheck, poppler (pdfinfo/pdftotext), LibreOffice, a Markdown parser.

mod docx;
mod epub;
mod fixtures;
mod helpers;
mod markdown;
mod names;
mod pdf;
