//! The export formats and the download file names. File names come from
//! user-chosen titles, so `file_name` is the one place that decides what is
//! safe to put in a `Content-Disposition` header or on someone's disk.

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Markdown,
    Pdf,
    Epub,
    Docx,
}

impl Format {
    pub const ALL: [Format; 4] = [Format::Markdown, Format::Pdf, Format::Epub, Format::Docx];

    /// From a file extension or route segment: "pdf", ".EPUB", "md", "markdown".
    pub fn from_ext(ext: &str) -> Option<Format> {
        match ext
            .trim()
            .trim_start_matches('.')
            .to_ascii_lowercase()
            .as_str()
        {
            "md" | "markdown" => Some(Format::Markdown),
            "pdf" => Some(Format::Pdf),
            "epub" => Some(Format::Epub),
            "docx" => Some(Format::Docx),
            _ => None,
        }
    }

    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Markdown => "md",
            Format::Pdf => "pdf",
            Format::Epub => "epub",
            Format::Docx => "docx",
        }
    }

    /// The MIME type for the `Content-Type` header.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Markdown => "text/markdown; charset=utf-8",
            Format::Pdf => "application/pdf",
            Format::Epub => "application/epub+zip",
            Format::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
        }
    }
}

/// Longest stem, in characters, before the extension.
const MAX_STEM_CHARS: usize = 80;

/// A safe download name for a book: `el-nino-y-el-mar.pdf`.
///
/// Latin letters lose their accents (á → a, ñ → n, ß → ss), other letters and
/// digits of any script are kept, and everything else (separators, dots,
/// quotes, `<>:"|?*&`, controls) becomes a single `-`. The result has no path
/// separator and no `..`, is at most 80 characters before the extension,
/// avoids Windows device names, and is never empty ("book").
pub fn file_name(title: &str, format: Format) -> String {
    let mut stem = String::new();
    for c in title.chars() {
        if push_transliterated(c, &mut stem) {
            // handled
        } else if c.is_alphanumeric() {
            stem.extend(c.to_lowercase());
        } else if !stem.ends_with('-') {
            stem.push('-');
        }
    }
    let stem: String = stem
        .trim_matches('-')
        .chars()
        .take(MAX_STEM_CHARS)
        .collect();
    let stem = stem.trim_end_matches('-');
    let stem = if stem.is_empty() {
        "book".to_owned()
    } else if is_windows_device(stem) {
        format!("{stem}-book")
    } else {
        stem.to_owned()
    };
    format!("{stem}.{}", format.extension())
}

fn is_windows_device(stem: &str) -> bool {
    let upper = stem.to_ascii_uppercase();
    matches!(upper.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || (upper.len() == 4
            && (upper.starts_with("COM") || upper.starts_with("LPT"))
            && upper.as_bytes()[3].is_ascii_digit())
}

/// Appends the ASCII spelling of `c` when it is an ASCII alphanumeric or a
/// Latin letter with a diacritic; returns false for anything else.
fn push_transliterated(c: char, out: &mut String) -> bool {
    const TABLE: &[(&str, &str)] = &[
        ("àáâãäåāăą", "a"),
        ("çćĉċč", "c"),
        ("ďđ", "d"),
        ("èéêëēĕėęě", "e"),
        ("ĝğġģ", "g"),
        ("ĥ", "h"),
        ("ìíîïĩīĭįı", "i"),
        ("ĵ", "j"),
        ("ķ", "k"),
        ("ĺļľŀł", "l"),
        ("ñńņňŉ", "n"),
        ("òóôõöøōŏő", "o"),
        ("ŕŗř", "r"),
        ("śŝşš", "s"),
        ("ţťŧ", "t"),
        ("ùúûüũūŭůűų", "u"),
        ("ŵ", "w"),
        ("ýÿŷ", "y"),
        ("źżž", "z"),
        ("ß", "ss"),
        ("æ", "ae"),
        ("œ", "oe"),
        ("þ", "th"),
        ("ð", "d"),
    ];
    if c.is_ascii_alphanumeric() {
        out.push(c.to_ascii_lowercase());
        return true;
    }
    let Some(lower) = c.to_lowercase().next() else {
        return false;
    };
    match TABLE.iter().find(|(set, _)| set.contains(lower)) {
        Some((_, ascii)) => {
            out.push_str(ascii);
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_round_trip_through_extensions() {
        for f in Format::ALL {
            assert_eq!(Format::from_ext(f.extension()), Some(f));
        }
        assert_eq!(Format::from_ext(".PDF"), Some(Format::Pdf));
        assert_eq!(Format::from_ext("markdown"), Some(Format::Markdown));
        assert_eq!(Format::from_ext("exe"), None);
    }

    #[test]
    fn file_names_are_safe() {
        assert_eq!(
            file_name("El niño y el mar", Format::Pdf),
            "el-nino-y-el-mar.pdf"
        );
        assert_eq!(
            file_name("¿Quién? ¡Yo! «Über»", Format::Epub),
            "quien-yo-uber.epub"
        );
        assert_eq!(file_name(r#"<script>&"'/../"#, Format::Docx), "script.docx");
        assert_eq!(
            file_name("../../etc/passwd", Format::Markdown),
            "etc-passwd.md"
        );
        assert_eq!(file_name("", Format::Pdf), "book.pdf");
        assert_eq!(file_name("  ***  ", Format::Pdf), "book.pdf");
        assert_eq!(file_name("con", Format::Pdf), "con-book.pdf");
        assert_eq!(file_name("Война и мир", Format::Pdf), "война-и-мир.pdf");
        assert_eq!(file_name("a\u{0}b\nc", Format::Pdf), "a-b-c.pdf");
        let long = file_name(&"palabra ".repeat(50), Format::Pdf);
        assert!(long.chars().count() <= MAX_STEM_CHARS + 4, "{long}");
        assert!(!long.contains("-.pdf"));
    }
}
