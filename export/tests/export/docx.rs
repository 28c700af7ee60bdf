//! docx tests (in progress)
