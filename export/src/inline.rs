//! Inline emphasis of model prose: `*italic*`, `**bold**`, `***both***`, and the same with `_`
//! (`_italic_`, `__bold__`), which never opens or closes inside a word (`snake_case` stays text).
//! A simplified CommonMark delimiter match: a star run opens only before a
//! non-space and closes only after one, closers pair with the nearest opener
//! of the same length, and anything unmatched stays literal text, so a stray
//! `*` (e.g. "5 * 3") never turns the rest of a paragraph italic.

use crate::model::Run;
use crate::text::smarten;

enum Token {
    Text(String),
    Stars {
        ch: char,
        len: usize,
        can_open: bool,
        can_close: bool,
    },
}

/// Parses one paragraph's text (already on one line) into styled runs.
/// Adjacent runs with the same style are merged; empty text yields no runs.
pub fn parse_inline(raw: &str) -> Vec<Run> {
    let text = smarten(raw);
    let tokens = tokenize(&text);
    let matched = match_delimiters(&tokens);
    let (mut italic, mut bold) = (false, false);
    let mut runs: Vec<Run> = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        match token {
            Token::Text(t) => push_run(&mut runs, t, italic, bold),
            Token::Stars { len, .. } if matched[i] => {
                if *len != 2 {
                    italic = !italic;
                }
                if *len >= 2 {
                    bold = !bold;
                }
            }
            Token::Stars { ch, len, .. } => {
                push_run(&mut runs, &ch.to_string().repeat(*len), italic, bold)
            }
        }
    }
    trim_runs(&mut runs);
    runs
}

fn tokenize(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut buf = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && matches!(chars.get(i + 1), Some('*' | '_')) {
            buf.push(chars[i + 1]);
            i += 2;
            continue;
        }
        if c != '*' && c != '_' {
            buf.push(c);
            i += 1;
            continue;
        }
        let start = i;
        while chars.get(i) == Some(&c) {
            i += 1;
        }
        let len = i - start;
        let before = start.checked_sub(1).map(|j| chars[j]);
        let after = chars.get(i).copied();
        if len > 3 {
            buf.extend(std::iter::repeat_n(c, len));
            continue;
        }
        let mut can_open = after.is_some_and(|c| !c.is_whitespace());
        let mut can_close = before.is_some_and(|c| !c.is_whitespace());
        if c == '_' {
            // Intraword underscores are text: `snake_case`, `file_name_here`.
            can_open &= !before.is_some_and(char::is_alphanumeric);
            can_close &= !after.is_some_and(char::is_alphanumeric);
        }
        if !can_open && !can_close {
            buf.extend(std::iter::repeat_n(c, len));
            continue;
        }
        if !buf.is_empty() {
            tokens.push(Token::Text(std::mem::take(&mut buf)));
        }
        tokens.push(Token::Stars {
            ch: c,
            len,
            can_open,
            can_close,
        });
    }
    if !buf.is_empty() {
        tokens.push(Token::Text(buf));
    }
    tokens
}

/// Marks which star tokens form pairs. Openers between a matched pair are
/// dropped from the stack, which keeps pairs properly nested.
fn match_delimiters(tokens: &[Token]) -> Vec<bool> {
    let mut matched = vec![false; tokens.len()];
    let mut openers: Vec<(usize, usize, char)> = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        let Token::Stars {
            ch,
            len,
            can_open,
            can_close,
        } = *token
        else {
            continue;
        };
        if can_close {
            if let Some(pos) = openers.iter().rposition(|&(_, l, c)| l == len && c == ch) {
                matched[openers[pos].0] = true;
                matched[i] = true;
                openers.truncate(pos);
                continue;
            }
        }
        if can_open {
            openers.push((i, len, ch));
        }
    }
    matched
}

fn push_run(runs: &mut Vec<Run>, text: &str, italic: bool, bold: bool) {
    if text.is_empty() {
        return;
    }
    if let Some(last) = runs.last_mut() {
        if last.italic == italic && last.bold == bold {
            last.text.push_str(text);
            return;
        }
    }
    runs.push(Run {
        text: text.to_owned(),
        italic,
        bold,
    });
}

fn trim_runs(runs: &mut Vec<Run>) {
    if let Some(first) = runs.first_mut() {
        first.text = first.text.trim_start().to_owned();
    }
    if let Some(last) = runs.last_mut() {
        last.text = last.text.trim_end().to_owned();
    }
    runs.retain(|r| !r.text.is_empty());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(text: &str, italic: bool, bold: bool) -> Run {
        Run {
            text: text.into(),
            italic,
            bold,
        }
    }

    #[test]
    fn italic_bold_and_both() {
        assert_eq!(
            parse_inline("a *b* **c** ***d*** e"),
            vec![
                r("a ", false, false),
                r("b", true, false),
                r(" ", false, false),
                r("c", false, true),
                r(" ", false, false),
                r("d", true, true),
                r(" e", false, false),
            ]
        );
    }

    #[test]
    fn nested_italic_inside_bold() {
        assert_eq!(
            parse_inline("**muy *muy* bien**"),
            vec![
                r("muy ", false, true),
                r("muy", true, true),
                r(" bien", false, true)
            ]
        );
    }

    #[test]
    fn stray_stars_stay_literal() {
        assert_eq!(
            parse_inline("5 * 3 = 15 and *open"),
            vec![r("5 * 3 = 15 and *open", false, false)]
        );
        assert_eq!(parse_inline("a ** b"), vec![r("a ** b", false, false)]);
        assert_eq!(
            parse_inline(r"\*not\* italic"),
            vec![r("*not* italic", false, false)]
        );
    }

    #[test]
    fn underscores_emphasize_but_not_inside_words() {
        assert_eq!(
            parse_inline("a _b_ __c__ d"),
            vec![
                r("a ", false, false),
                r("b", true, false),
                r(" ", false, false),
                r("c", false, true),
                r(" d", false, false)
            ]
        );
        assert_eq!(
            parse_inline("snake_case and file_name_here"),
            vec![r("snake_case and file_name_here", false, false)]
        );
        // A star never closes an underscore.
        assert_eq!(parse_inline("_a*"), vec![r("_a*", false, false)]);
    }
}
