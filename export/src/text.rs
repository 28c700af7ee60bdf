//! Character-level hygiene shared by every format: removing characters no
//! document format may carry, typographic punctuation, and the escaping rules
//! of XML and Markdown. Owns no layout.

/// Drops characters that are invalid in XML 1.0 even when escaped (C0/C1
/// controls other than tab and newline, U+FFFE/U+FFFF) and normalizes line
/// ends, so one book text is valid in EPUB, DOCX and typst alike.
pub fn sanitize(s: &str) -> String {
    let s = s.replace("\r\n", "\n").replace('\r', "\n");
    s.chars()
        .map(|c| if c == '\t' { ' ' } else { c })
        .filter(|&c| c == '\n' || !is_forbidden(c))
        .collect()
}

/// `sanitize` for one-line values (titles, names): whitespace runs collapse
/// to one space and the ends are trimmed.
pub fn sanitize_line(s: &str) -> String {
    sanitize(s).split_whitespace().collect::<Vec<_>>().join(" ")
}

fn is_forbidden(c: char) -> bool {
    c.is_control() || matches!(c, '\u{FFFE}' | '\u{FFFF}' | '\u{FEFF}')
}

/// Typewriter punctuation to typographic: straight quotes to curly ones,
/// `--` to an em dash, `...` to an ellipsis. `*` is skipped when looking at
/// the neighbours because it is emphasis markup, not text.
pub fn smarten(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len() + 8);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '-' if chars.get(i + 1) == Some(&'-') => {
                out.push('—');
                i += 2;
                while chars.get(i) == Some(&'-') {
                    i += 1;
                }
                continue;
            }
            '.' if chars.get(i + 1) == Some(&'.') && chars.get(i + 2) == Some(&'.') => {
                out.push('…');
                i += 3;
                continue;
            }
            '"' => out.push(if opens(&chars, i) { '“' } else { '”' }),
            '\'' => {
                let prev_is_letter = prev_text_char(&chars, i).is_some_and(char::is_alphanumeric);
                out.push(if !prev_is_letter && opens(&chars, i) {
                    '‘'
                } else {
                    '’'
                })
            }
            _ => out.push(c),
        }
        i += 1;
    }
    out
}

fn prev_text_char(chars: &[char], i: usize) -> Option<char> {
    chars[..i].iter().rev().copied().find(|&c| c != '*')
}

/// A quote opens when it starts the text or follows a space or opening
/// punctuation (dialogue dashes and Spanish ¿ ¡ included).
fn opens(chars: &[char], i: usize) -> bool {
    match prev_text_char(chars, i) {
        None => true,
        Some(p) => p.is_whitespace() || "([{—–-«¿¡“‘/".contains(p),
    }
}

/// Escapes text for XML element content and double-quoted attributes.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Escapes inline Markdown so text is never read as markup (emphasis, links,
/// HTML, code). Line-start markers are handled by `markdown_escape_line`.
pub fn markdown_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '*' | '_' | '`' | '[' | ']' | '<' | '>' | '&' | '|' | '~'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `markdown_escape` plus the markers that only matter at the start of a line.
pub fn markdown_escape_line(s: &str) -> String {
    escape_line_start(markdown_escape(s))
}

/// Backslash-escapes a line-start marker (`#` heading, `-`/`+` list, `=`
/// setext underline, `1.` ordered list) in already escaped Markdown.
pub fn escape_line_start(escaped: String) -> String {
    let digits = escaped.chars().take_while(char::is_ascii_digit).count();
    let starts_list = digits > 0 && escaped[digits..].starts_with(['.', ')']);
    if escaped.starts_with(['#', '-', '+', '=']) {
        format!("\\{escaped}")
    } else if starts_list {
        format!("{}\\{}", &escaped[..digits], &escaped[digits..])
    } else {
        escaped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_removes_controls_keeps_newlines() {
        assert_eq!(sanitize("a\u{0}b\r\nc\u{1b}[0m\td"), "ab\nc[0m d");
        assert_eq!(sanitize_line("  Hola \n  mundo\u{7} "), "Hola mundo");
    }

    #[test]
    fn smart_quotes_in_english_and_spanish() {
        assert_eq!(
            smarten(r#"She said "it's fine" -- really..."#),
            "She said “it’s fine” — really…"
        );
        assert_eq!(smarten(r#"—¿"Sí"? 'no'"#), "—¿“Sí”? ‘no’");
        assert_eq!(smarten(r#""*Hola*" dijo"#), "“*Hola*” dijo");
    }

    #[test]
    fn xml_escape_covers_markup() {
        assert_eq!(
            xml_escape(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn markdown_escapes_line_starts() {
        assert_eq!(markdown_escape_line("# no"), "\\# no");
        assert_eq!(markdown_escape_line("1984. Year"), "1984\\. Year");
        assert_eq!(markdown_escape_line("a *b* <c>"), "a \\*b\\* \\<c\\>");
    }
}
