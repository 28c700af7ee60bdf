//! The EPUB cover image: an SVG with the same quiet typographic design as the
//! PDF cover (title, subtitle, a rule, author on a dark ground). Readers use
//! the manifest's cover image for their library thumbnails, so a book without
//! one shows up as a blank tile. Text is XML-escaped and wrapped by character
//! count, since SVG 1.1 has no line wrapping.

use std::fmt::Write as _;

use crate::model::Book;
use crate::text::xml_escape;

const WIDTH: u32 = 600;
const HEIGHT: u32 = 900;
const INK: &str = "#1d2733";
const PAPER: &str = "#f6f1e7";
const ACCENT: &str = "#b8955a";
const FONT: &str = "Georgia, 'Libertinus Serif', 'Times New Roman', serif";

pub fn svg(book: &Book) -> String {
    let (size, per_line) = if book.title.chars().count() <= 40 {
        (60, 15)
    } else {
        (46, 20)
    };
    let title = wrap(&book.title, per_line, 6);
    let subtitle = book
        .subtitle
        .as_deref()
        .map(|s| wrap(s, 34, 3))
        .unwrap_or_default();

    let mut s = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" \
         width=\"{WIDTH}\" height=\"{HEIGHT}\">\n\
         <rect width=\"{WIDTH}\" height=\"{HEIGHT}\" fill=\"{INK}\"/>\n"
    );
    let line_height = size * 6 / 5;
    let block = title.len() as u32 * line_height + subtitle.len() as u32 * 40;
    let mut y = (HEIGHT * 2 / 5).saturating_sub(block / 2) + size;
    for line in &title {
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{y}\" text-anchor=\"middle\" font-family=\"{FONT}\" font-size=\"{size}\" \
             font-weight=\"bold\" fill=\"{PAPER}\">{}</text>",
            WIDTH / 2,
            xml_escape(line)
        );
        y += line_height;
    }
    y += 16;
    for line in &subtitle {
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{y}\" text-anchor=\"middle\" font-family=\"{FONT}\" font-size=\"28\" \
             font-style=\"italic\" fill=\"{PAPER}\">{}</text>",
            WIDTH / 2,
            xml_escape(line)
        );
        y += 40;
    }
    y += 30;
    let _ = writeln!(
        s,
        "<line x1=\"{}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"{ACCENT}\" stroke-width=\"2\"/>",
        WIDTH / 2 - 80,
        WIDTH / 2 + 80
    );
    for (i, line) in wrap(&book.author.to_uppercase(), 28, 2).iter().enumerate() {
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-family=\"{FONT}\" font-size=\"26\" \
             letter-spacing=\"3\" fill=\"{PAPER}\">{}</text>",
            WIDTH / 2,
            y + 70 + i as u32 * 36,
            xml_escape(line)
        );
    }
    s.push_str("</svg>\n");
    s
}

/// Greedy word wrap to `width` characters and at most `max_lines` lines; a
/// longer text ends its last line with "…". Words longer than a line are cut.
fn wrap(text: &str, width: usize, max_lines: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        let word: String = word.chars().take(width).collect();
        let needed =
            current.chars().count() + usize::from(!current.is_empty()) + word.chars().count();
        if !current.is_empty() && needed > width {
            lines.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(&word);
    }
    if !current.is_empty() {
        lines.push(current);
    }
    if lines.len() > max_lines {
        lines.truncate(max_lines);
        if let Some(last) = lines.last_mut() {
            last.push('…');
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_and_truncates() {
        assert_eq!(
            wrap("El último faro de Añón", 12, 5),
            vec!["El último", "faro de Añón"]
        );
        assert_eq!(wrap("a b c d e f", 1, 2), vec!["a", "b…"]);
        assert_eq!(wrap("Supercalifragilistic", 5, 3), vec!["Super"]);
    }
}
