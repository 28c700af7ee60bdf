//! Finishes the DOCX package docx-rs writes. docx-rs stores every part
//! uncompressed and has no API for the document language or automatic
//! hyphenation, so this re-packs the zip with deflate (a 300-page book drops
//! from ~1 MB to a few hundred KB) and adds, in schema order:
//! `<w:lang>` as the last child of the default run properties (Word and
//! LibreOffice then spell-check and hyphenate in the book's language), and
//! `<w:autoHyphenation/>` right after `<w:defaultTabStop>` in the settings
//! (justified text without hyphenation shows rivers of white).

use std::io::{Cursor, Read, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use crate::model::Language;
use crate::ExportError;

pub fn finish(stored: Vec<u8>, language: Language) -> Result<Vec<u8>, ExportError> {
    repack(stored, language).map_err(|e| ExportError::Docx(format!("re-packing: {e}")))
}

fn repack(stored: Vec<u8>, language: Language) -> zip::result::ZipResult<Vec<u8>> {
    let capacity = stored.len() / 3;
    let mut archive = ZipArchive::new(Cursor::new(stored))?;
    let mut out = ZipWriter::new(Cursor::new(Vec::with_capacity(capacity)));
    // Level 6: flate2's sweet spot; higher levels would switch zip to zopfli,
    // which is orders of magnitude slower.
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(6));
    let mut data = Vec::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i)?;
        let name = entry.name().to_owned();
        if entry.is_dir() {
            out.add_directory(name, options)?;
            continue;
        }
        data.clear();
        entry.read_to_end(&mut data)?;
        let patched = match name.as_str() {
            "word/styles.xml" => {
                insert_before(&data, "</w:rPr></w:rPrDefault>", &lang_xml(language))
            }
            "word/settings.xml" => {
                insert_after_element(&data, "<w:defaultTabStop", "<w:autoHyphenation />")
            }
            _ => None,
        };
        out.start_file(name, options)?;
        out.write_all(patched.as_deref().unwrap_or(&data))?;
    }
    Ok(out.finish()?.into_inner())
}

fn lang_xml(language: Language) -> String {
    let tag = match language {
        Language::En => "en-US",
        Language::Es => "es-ES",
    };
    format!("<w:lang w:val=\"{tag}\" w:eastAsia=\"{tag}\" w:bidi=\"ar-SA\" />")
}

/// `data` with `insert` placed before the first `marker`; `None` when the
/// marker is absent (the part is then kept as docx-rs wrote it).
fn insert_before(data: &[u8], marker: &str, insert: &str) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(data).ok()?;
    let at = text.find(marker)?;
    Some([&text[..at], insert, &text[at..]].concat().into_bytes())
}

/// `data` with `insert` placed after the end of the first element that
/// starts with `open` (an empty element, `<... />`).
fn insert_after_element(data: &[u8], open: &str, insert: &str) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(data).ok()?;
    let start = text.find(open)?;
    let end = start + text[start..].find("/>")? + 2;
    Some([&text[..end], insert, &text[end..]].concat().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserts_in_schema_order() {
        let styles = b"<w:rPrDefault><w:rPr><w:sz w:val=\"22\" /></w:rPr></w:rPrDefault>";
        let out = insert_before(styles, "</w:rPr></w:rPrDefault>", &lang_xml(Language::Es))
            .expect("marker");
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            "<w:rPrDefault><w:rPr><w:sz w:val=\"22\" /><w:lang w:val=\"es-ES\" w:eastAsia=\"es-ES\" \
             w:bidi=\"ar-SA\" /></w:rPr></w:rPrDefault>"
        );
        let settings = b"<w:settings><w:defaultTabStop w:val=\"840\" /><w:zoom /></w:settings>";
        let out = insert_after_element(settings, "<w:defaultTabStop", "<w:autoHyphenation />")
            .expect("element");
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            "<w:settings><w:defaultTabStop w:val=\"840\" /><w:autoHyphenation /><w:zoom /></w:settings>"
        );
    }
}
