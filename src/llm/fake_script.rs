//! The SSE answer the fake LLM server writes for one request: the Anthropic streaming protocol, event by
//! event, with pacing and the stream faults of `fake_faults` applied. Pure construction; `fake_server`
//! decides which fault applies and sends the steps.

use std::time::Duration;

use buko_actors::Language;
use bytes::Bytes;
use serde_json::{json, Value};

use super::fake_cache::CacheUse;
use super::fake_faults::{error_body, Fault};
use super::offline::{continuation, estimate_tokens};
use super::offline_text::{prose, seed_of, Topic};

/// One thing the response stream does.
#[derive(Debug)]
pub enum Step {
    Send(Bytes),
    Sleep(Duration),
    /// Yield to the event loop so the bytes before it leave as their own write.
    Yield,
    /// Cut the connection.
    Reset,
    /// Send nothing more, never end.
    Hang,
}

fn event(name: &str, data: Value) -> Bytes {
    Bytes::from(format!("event: {name}\ndata: {data}\n\n"))
}

/// What the request asks about: language, topic, prefill and limits.
pub struct Ask {
    pub seed: u64,
    pub language: Language,
    pub topic: Topic,
    pub prefill: String,
    pub max_tokens: u64,
    /// Input not read from or written to the prompt cache.
    pub input_tokens: u64,
    /// What the prompt cache did (`fake_cache`), reported apart as the API does.
    pub cache: CacheUse,
    pub model: String,
    /// For a request asking for a book's architecture: the JSON answer (built from the idea, language
    /// and length in the prompt, as the offline writer would), so a whole book can be written against
    /// the fake server. Likewise the JSON answer to a story-ledger or continuity-audit request.
    pub architecture: Option<String>,
    /// The words the last user message asks for (its last "about N words" / "about N more words").
    pub asked_words: Option<usize>,
    /// The request asks to continue a finished text with more words (a length extension).
    pub extension: bool,
}

/// The last "about N words" or "about N more words" in `text`: (N, more).
pub fn asked_words(text: &str) -> Option<(usize, bool)> {
    let mut found = None;
    let mut rest = text;
    while let Some(i) = rest.find("about ") {
        rest = &rest[i + "about ".len()..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let after = rest[digits.len()..].trim_start();
        let (more, after) = match after.strip_prefix("more ") {
            Some(a) => (true, a),
            None => (false, after),
        };
        if let (Ok(n), true) = (digits.parse::<usize>(), after.starts_with("words")) {
            found = Some((n, more));
        }
    }
    found
}

impl Ask {
    pub fn from_body(body: &Value) -> Ask {
        let system = body
            .get("system")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let messages: Vec<(String, String)> = body
            .get("messages")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|m| {
                let role = m
                    .get("role")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                let content = match m.get("content") {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Array(parts)) => parts
                        .iter()
                        .filter_map(|p| p.get("text").and_then(Value::as_str))
                        .collect::<Vec<_>>()
                        .join(""),
                    _ => String::new(),
                };
                (role, content)
            })
            .collect();
        let all: String = std::iter::once(system.as_str())
            .chain(messages.iter().map(|m| m.1.as_str()))
            .collect();
        let spanish = all.chars().filter(|c| "ñáéíóú¿¡".contains(*c)).count() * 200
            > all.chars().count().max(1);
        let last_user = messages
            .iter()
            .rev()
            .find(|m| m.0 == "user")
            .map(|m| m.1.clone())
            .unwrap_or_default();
        let points: Vec<String> = last_user
            .lines()
            .filter_map(|l| l.trim().strip_prefix("- "))
            .take(4)
            .map(str::to_string)
            .collect();
        let title = last_user
            .lines()
            .next()
            .unwrap_or("")
            .chars()
            .take(60)
            .collect::<String>();
        let prefill = match messages.last() {
            Some((r, c)) if r == "assistant" => c.clone(),
            _ => String::new(),
        };
        let user_text: String = messages
            .iter()
            .filter(|m| m.0 == "user")
            .map(|m| m.1.as_str())
            .collect();
        let language = if spanish { Language::Es } else { Language::En };
        let architecture = architecture_answer(&system, &last_user)
            .or_else(|| super::offline_memory::memory_answer(&system, &last_user, language, true));
        let asked = asked_words(&last_user);
        Ask {
            asked_words: asked.map(|a| a.0),
            extension: asked.is_some_and(|a| a.1),
            architecture,
            seed: seed_of(&[&system, &user_text], &[]),
            language,
            topic: Topic {
                title,
                chapter: String::new(),
                points,
                names: Vec::new(),
            },
            prefill,
            max_tokens: body
                .get("max_tokens")
                .and_then(Value::as_u64)
                .unwrap_or(1024),
            input_tokens: estimate_tokens(&all),
            cache: CacheUse::default(),
            model: body
                .get("model")
                .and_then(Value::as_str)
                .unwrap_or("fake")
                .to_string(),
        }
    }
}

/// Pacing of the answer.
#[derive(Clone, Copy, Debug)]
pub struct Pace {
    pub tokens_per_sec: f64,
    pub ttft: Duration,
    pub words: usize,
    /// Write this share of the asked words (`--length-ratio`) instead of `words`.
    pub length_ratio: Option<f64>,
}

/// The steps of a 200 streaming answer for `ask`, with `fault` applied when it is a stream fault.
pub fn stream_steps(ask: &Ask, fault: Option<&Fault>, pace: Pace) -> Vec<Step> {
    let words = match (pace.length_ratio, ask.asked_words) {
        (Some(ratio), Some(asked)) => ((asked as f64 * ratio).round() as usize).max(1),
        _ => pace.words,
    };
    let text = match &ask.architecture {
        Some(json) => json.clone(),
        None => prose(ask.seed, ask.language, &ask.topic, words),
    };
    // A length extension continues a finished text with new words; a `max_tokens` continuation
    // resumes the same answer after the words already sent.
    let extension = ask.extension;
    let pieces: Vec<&str> = if extension {
        let sep =
            (!ask.prefill.is_empty() && !ask.prefill.ends_with(char::is_whitespace)).then_some(" ");
        sep.into_iter().chain(continuation(&text, "")).collect()
    } else {
        continuation(&text, &ask.prefill)
    };
    let mut deltas: Vec<(String, u64)> = Vec::new();
    let mut used = 0u64;
    let mut stop = "end_turn";
    let mut cur = (String::new(), 0u64);
    let limit = match fault {
        Some(Fault::MaxTokens) => ask.max_tokens.min(estimate_tokens(&text) / 2).max(1),
        _ => ask.max_tokens,
    };
    // Tokens of the whole answer so far (≈ 4 chars a token, at least one a word), as a tokenizer
    // counts a text, not the sum of rounded-up pieces.
    let (mut chars, mut words) = (0u64, 0u64);
    for w in pieces {
        chars += w.chars().count() as u64;
        words += w.split_whitespace().count() as u64;
        let total = chars.div_ceil(4).max(words).max(used);
        if total > limit {
            stop = "max_tokens";
            break;
        }
        let t = total - used;
        used = total;
        cur.0.push_str(w);
        cur.1 += t;
        if cur.1 >= 4 {
            deltas.push(std::mem::take(&mut cur));
        }
    }
    if !cur.0.is_empty() {
        deltas.push(cur);
    }
    let mut steps = vec![
        Step::Send(event(
            "message_start",
            json!({"type": "message_start", "message": {"id": "msg_fake", "type": "message", "role": "assistant",
                "model": ask.model, "content": [], "stop_reason": null,
                "usage": {"input_tokens": ask.input_tokens, "output_tokens": 1,
                    "cache_creation_input_tokens": ask.cache.creation,
                    "cache_read_input_tokens": ask.cache.read}}}),
        )),
        Step::Sleep(pace.ttft),
    ];
    let mut index = 0;
    if matches!(fault, Some(Fault::Thinking)) {
        steps.push(Step::Send(event(
            "content_block_start",
            json!({"type": "content_block_start", "index": 0,
            "content_block": {"type": "thinking", "thinking": ""}}),
        )));
        for t in ["Let me plan ", "this passage."] {
            steps.push(Step::Send(event(
                "content_block_delta",
                json!({"type": "content_block_delta", "index": 0,
                "delta": {"type": "thinking_delta", "thinking": t}}),
            )));
        }
        steps.push(Step::Send(event(
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0,
            "delta": {"type": "signature_delta", "signature": "c2lnbmF0dXJl"}}),
        )));
        steps.push(Step::Send(event(
            "content_block_stop",
            json!({"type": "content_block_stop", "index": 0}),
        )));
        index = 1;
    }
    steps.push(Step::Send(event(
        "content_block_start",
        json!({"type": "content_block_start", "index": index,
        "content_block": {"type": "text", "text": ""}}),
    )));
    steps.push(Step::Send(event("ping", json!({"type": "ping"}))));
    let cut_at = deltas.len() / 3;
    for (i, (text, tokens)) in deltas.iter().enumerate() {
        if i == cut_at {
            match fault {
                Some(Fault::Reset) => {
                    steps.push(Step::Yield);
                    steps.push(Step::Reset);
                    return steps;
                }
                Some(Fault::ErrorEvent { error_type }) => {
                    let ty = error_type
                        .clone()
                        .unwrap_or_else(|| "overloaded_error".into());
                    steps.push(Step::Send(event("error", error_body(&ty, "Overloaded"))));
                    return steps;
                }
                Some(Fault::Malformed) => {
                    steps.push(Step::Send(Bytes::from_static(
                        b"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"delta\":{\"ty\n\n",
                    )));
                    return steps;
                }
                Some(Fault::Stall) => {
                    steps.push(Step::Yield);
                    steps.push(Step::Hang);
                    return steps;
                }
                _ => {}
            }
        }
        if pace.tokens_per_sec > 0.0 {
            steps.push(Step::Sleep(Duration::from_secs_f64(
                *tokens as f64 / pace.tokens_per_sec,
            )));
        }
        steps.push(Step::Send(event(
            "content_block_delta",
            json!({"type": "content_block_delta", "index": index,
            "delta": {"type": "text_delta", "text": text}}),
        )));
    }
    steps.push(Step::Send(event(
        "content_block_stop",
        json!({"type": "content_block_stop", "index": index}),
    )));
    steps.push(Step::Send(event(
        "message_delta",
        json!({"type": "message_delta",
        "delta": {"stop_reason": stop, "stop_sequence": null}, "usage": {"output_tokens": used}}),
    )));
    steps.push(Step::Send(event(
        "message_stop",
        json!({"type": "message_stop"}),
    )));
    if matches!(fault, Some(Fault::OneByteChunks)) {
        steps = steps
            .into_iter()
            .flat_map(|s| match s {
                Step::Send(b) => (0..b.len())
                    .flat_map(|i| [Step::Send(b.slice(i..i + 1)), Step::Yield])
                    .collect(),
                other => vec![other],
            })
            .collect();
    }
    steps
}

/// The architecture JSON for an architecture request (the engine's prompt: a book architect asked for
/// one JSON object, with `Idea:`, `Language:` and `Length: about N pages` lines), else `None`.
fn architecture_answer(system: &str, user: &str) -> Option<String> {
    if !(system.contains("book architect") || user.contains("Answer with exactly one JSON object"))
    {
        return None;
    }
    let field = |name: &str| {
        user.lines()
            .find_map(|l| l.trim().strip_prefix(name))
            .map(|v| v.trim().to_string())
    };
    let pages = field("Length: about")
        .and_then(|v| {
            v.split_whitespace()
                .next()
                .and_then(|n| n.parse::<u32>().ok())
        })
        .unwrap_or(100);
    let ctx = buko_actors::RequestContext {
        language: field("Language:")
            .and_then(|l| Language::parse(&l))
            .unwrap_or_default(),
        idea: field("Idea:"),
        genre: field("Genre:"),
        audience: field("Audience:"),
        tone: field("Tone:"),
        target_pages: Some(pages),
        ..buko_actors::RequestContext::default()
    };
    serde_json::to_string(&super::offline::architecture(&ctx)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_last_words_asked_for() {
        assert_eq!(
            asked_words("part 1 of 2, about 900 words."),
            Some((900, false))
        );
        assert_eq!(
            asked_words("about 900 words.\n## Length\n… about 360 more words; do"),
            Some((360, true))
        );
        assert_eq!(asked_words("about the harbour, words"), None);
    }
}
