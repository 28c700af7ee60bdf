//! PDF export (in progress).
use crate::model::Book;
use crate::ExportError;
pub fn render(_book: &Book) -> Result<Vec<u8>, ExportError> {
    Err(ExportError::Pdf("not yet".into()))
}
