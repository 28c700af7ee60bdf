//! Length that holds: a chunk that ended on its own (`end_turn`) under [`SHORT`] of its word budget is
//! extended with continuation requests (the text so far as a prefill, the missing words asked for)
//! until it reaches [`ENOUGH`], at most `EngineConfig::length_extensions` times; one over [`LONG`] is cut at the last sentence end
//! within the budget. So every chunk, and every chapter, lands near its target whatever the model's
//! habit of writing short or long.

use std::fmt::Write as _;

use super::ctx::BookCtx;
use crate::caller::{call_with_retry, CallError};
use crate::outcome::Halt;
use crate::ports::{CompletionRequest, Message, Role};

/// Under this share of the budget a finished chunk is extended...
pub const SHORT: f64 = 0.85;
/// ...until it reaches this share (so the chunk lands within 10 % of its budget, not just past 85 %).
pub const ENOUGH: f64 = 0.9;
/// Over this share of the budget a chunk is cut.
pub const LONG: f64 = 1.15;

pub fn word_count(text: &str) -> u32 {
    u32::try_from(text.split_whitespace().count()).unwrap_or(u32::MAX)
}

/// `text` cut after the last sentence end that leaves at most `max_words` words; `None` when no
/// sentence ends within them (the text is then kept whole rather than cut mid-sentence).
pub fn cut_at_sentence(text: &str, max_words: u32) -> Option<&str> {
    let mut words = 0u32;
    let mut in_word = false;
    let mut best = None;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c.is_whitespace() {
            in_word = false;
            continue;
        }
        if !in_word {
            words += 1;
            in_word = true;
            if words > max_words {
                break;
            }
        }
        if matches!(c, '.' | '!' | '?' | '…') {
            // Closing quotes and brackets belong to the sentence.
            let mut end = i + c.len_utf8();
            while let Some(&(j, q)) = chars.peek() {
                if matches!(q, '"' | '\'' | '”' | '’' | '»' | ')' | ']') {
                    end = j + q.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            let at_end = chars.peek().is_none_or(|&(_, n)| n.is_whitespace());
            if at_end {
                best = Some(end);
            }
        }
    }
    best.map(|end| &text[..end])
}

/// The request continuing `text` (a finished answer too short for `budget` words).
pub fn extension_request(
    request: &CompletionRequest,
    text: &str,
    budget: u32,
) -> CompletionRequest {
    let missing = budget.saturating_sub(word_count(text)).max(1);
    let mut req = request.clone();
    if let Some(m) = req.messages.iter_mut().rev().find(|m| m.role == Role::User) {
        let _ = write!(
            m.content,
            "\n\n## Length\nThe text so far has {} of the {budget} words this part needs. Continue it \
             seamlessly from its last sentence, about {missing} more words; do not repeat or \
             summarise it, and do not end the part before then.",
            word_count(text)
        );
    }
    req.messages.push(Message {
        role: Role::Assistant,
        content: text.to_string(),
    });
    req.context.word_budget = Some(missing);
    req.context.continuation = true;
    req
}

/// Where an extension's text meets the text so far: a space goes between them when neither side
/// has one, decided at the extension's first piece (when it is streamed, not after).
struct Join {
    needs_space: bool,
    decided: bool,
    /// A space was sent before the extension's first piece.
    spaced: bool,
}

impl Join {
    fn new(text: &str) -> Join {
        Join {
            needs_space: !text.is_empty() && !text.ends_with(char::is_whitespace),
            decided: false,
            spaced: false,
        }
    }

    /// The separator to stream before `piece`, once, at the first non-empty piece.
    fn before(&mut self, piece: &str) -> Option<&'static str> {
        if self.decided || piece.is_empty() {
            return None;
        }
        self.decided = true;
        self.spaced = self.needs_space && !piece.starts_with(char::is_whitespace);
        self.spaced.then_some(" ")
    }
}

impl BookCtx {
    /// Brings a finished chunk's `text` within [SHORT, LONG] of `budget` words (see the module doc).
    /// Extension calls are accounted and their text is forwarded through `on_text` as it streams.
    pub(crate) async fn fit_length(
        &mut self,
        request: &CompletionRequest,
        mut text: String,
        budget: u32,
        on_text: &mut dyn FnMut(&str),
    ) -> Result<String, Halt> {
        let deps = self.deps.clone();
        let budget_f = f64::from(budget);
        let short = f64::from(word_count(&text)) < budget_f * SHORT;
        for _ in 0..deps.config.length_extensions {
            if !short || f64::from(word_count(&text)) >= budget_f * ENOUGH {
                break;
            }
            let req = extension_request(request, &text, budget);
            self.ensure_budget(&req)?;
            let mut calls = Vec::new();
            // The adapter may have trimmed the prefill's trailing space: the words are joined on a
            // word boundary, and the live stream gets that space before the extension's first
            // piece, so what watchers saw is the text that is saved.
            let mut join = Join::new(&text);
            let result = {
                let mut on_more = |t: &str| {
                    if let Some(space) = join.before(t) {
                        on_text(space);
                    }
                    on_text(t);
                };
                call_with_retry(&deps, &req, &mut *self, &mut on_more, &mut calls).await
            };
            self.account(&calls);
            let more = match result {
                Ok(c) => c.text,
                Err(CallError::Halt(h)) => return Err(h),
                // The chunk is whole as it is; a failed extension leaves it short, not lost.
                Err(e) => {
                    log::warn!(
                        "book {}: extending a short chunk failed: {e:?}",
                        self.book_id
                    );
                    break;
                }
            };
            if word_count(&more) == 0 {
                break;
            }
            if join.spaced {
                text.push(' ');
            }
            text.push_str(&more);
        }
        if f64::from(word_count(&text)) > budget_f * LONG {
            if let Some(cut) = cut_at_sentence(&text, budget) {
                text.truncate(cut.len());
            }
        }
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{CallPurpose, RequestContext};

    #[test]
    fn cuts_after_the_last_whole_sentence_within_the_budget() {
        let t = "One two three. Four five six! «Seven eight?» Nine ten eleven twelve.";
        assert_eq!(cut_at_sentence(t, 3), Some("One two three."));
        assert_eq!(cut_at_sentence(t, 7), Some("One two three. Four five six!"));
        assert_eq!(
            cut_at_sentence(t, 8),
            Some("One two three. Four five six! «Seven eight?»")
        );
        assert_eq!(cut_at_sentence(t, 100), Some(t));
        assert_eq!(cut_at_sentence("No end in sight", 2), None);
        assert_eq!(
            cut_at_sentence("Dr.Who 3.5 is. Next", 4),
            Some("Dr.Who 3.5 is.")
        );
    }

    #[test]
    fn an_extension_is_joined_by_one_space_sent_before_its_first_piece() {
        let mut j = Join::new("He ran.");
        assert_eq!(j.before(""), None, "an empty piece decides nothing");
        assert_eq!(j.before("Then"), Some(" "));
        assert_eq!(j.before(" more"), None, "once");
        assert!(j.spaced);
        let mut j = Join::new("He ran.");
        assert_eq!(j.before(" Then"), None);
        assert!(!j.spaced);
        let mut j = Join::new("He ran. ");
        assert_eq!(j.before("Then"), None);
        assert!(!j.spaced);
    }

    #[test]
    fn an_extension_asks_for_the_missing_words_after_the_text_so_far() {
        let request = CompletionRequest {
            purpose: CallPurpose::Chunk,
            system: "s".into(),
            messages: vec![Message {
                role: Role::User,
                content: "Write about 100 words.".into(),
            }],
            max_tokens: 500,
            temperature: None,
            context: RequestContext {
                word_budget: Some(100),
                ..RequestContext::default()
            },
        };
        let text = "word ".repeat(60);
        let r = extension_request(&request, text.trim_end(), 100);
        assert_eq!(r.messages.len(), 2);
        assert!(r.messages[0].content.contains("about 40 more words"));
        assert_eq!(r.messages[1].role, Role::Assistant);
        assert_eq!(r.context.word_budget, Some(40));
        assert!(r.context.continuation);
    }
}
