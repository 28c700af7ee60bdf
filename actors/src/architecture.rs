//! Architecture generation: the prompt asking for exactly the SPEC JSON shape, extraction of the JSON
//! object from whatever the model wrapped it in, repair of what can be repaired (defaults, clamped word
//! targets), validation, and a retry with the error fed back otherwise. Never returns half-parsed data.

use serde_json::{Map, Value};

use crate::caller::{call_with_retry, CallError, NoHooks};
use crate::deps::EngineDeps;
use crate::layout;
use crate::model::{Architecture, Language, MAX_CHAPTERS, MAX_TARGET_WORDS, MIN_TARGET_WORDS};
use crate::ports::{
    CallPurpose, CallRecord, CompletionRequest, Message, RequestContext, Role, Usage,
};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ArchitectureRequest {
    /// For call accounting; `None` before the book exists.
    pub book_id: Option<String>,
    pub idea: String,
    pub genre: String,
    pub audience: String,
    pub language: Language,
    pub tone: String,
    pub target_pages: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ArchitectureResult {
    pub architecture: Architecture,
    pub usage: Usage,
    pub cost_usd: f64,
    /// Every call made (also recorded through `BookStore::record_call`).
    pub calls: Vec<CallRecord>,
}

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ArchitectureFailure {
    /// Worth trying again later (provider trouble).
    #[error("the AI provider is unavailable: {0}")]
    Temporary(String),
    /// The provider refused the request (configuration, credentials, spend limit).
    #[error("the AI provider rejected the request: {0}")]
    Permanent(String),
    /// The model kept answering with something that is not a usable architecture.
    #[error("the AI did not produce a usable architecture: {0}")]
    Invalid(String),
}

const SHAPE: &str = r#"{ "title": str, "subtitle": str, "synopsis": str, "audience": str, "tone": str, "language": "en"|"es",
  "bible": { "characters": [{"name": str, "role": str, "description": str}], "facts": [str], "style": [str] },
  "chapters": [{ "title": str, "summary": str, "key_points": [str], "target_words": int }] }"#;

/// The book's words for its page count (the PDF layout's calibration, chapters at ≈ 3000 words).
fn total_words(req: &ArchitectureRequest) -> u32 {
    let pages = req.target_pages.clamp(10, 2000);
    let rough = f64::from(pages) * layout::words_per_page(req.language);
    let chapters = (rough / 3000.0).round().clamp(3.0, 60.0) as usize;
    layout::words_for_pages(pages, chapters, req.language)
}

pub fn architecture_request(req: &ArchitectureRequest, max_tokens: u32) -> CompletionRequest {
    let words = total_words(req);
    let chapters = (words / 3000).clamp(3, 60);
    let user = format!(
        "Design a book from this idea.\n\nIdea: {}\nGenre: {}\nAudience: {}\nTone: {}\nLanguage: {}\n\
         Length: about {} pages ({words} words), e.g. {chapters} chapters.\n\n\
         Answer with exactly one JSON object of this shape and nothing else:\n{SHAPE}\n\
         target_words of all chapters should add up to about {words}; each between {MIN_TARGET_WORDS} and \
         {MAX_TARGET_WORDS}. Write the texts in the book's language.",
        req.idea.trim(),
        req.genre.trim(),
        req.audience.trim(),
        req.tone.trim(),
        req.language.code(),
        req.target_pages
    );
    CompletionRequest {
        purpose: CallPurpose::Architecture,
        system: "You are a book architect. You answer with a single JSON object, no prose."
            .to_string(),
        messages: vec![Message {
            role: Role::User,
            content: user,
        }],
        max_tokens,
        temperature: Some(0.7),
        context: RequestContext {
            book_id: req.book_id.clone(),
            language: req.language,
            idea: Some(req.idea.clone()),
            genre: Some(req.genre.clone()),
            audience: Some(req.audience.clone()),
            tone: Some(req.tone.clone()),
            target_pages: Some(req.target_pages),
            ..RequestContext::default()
        },
    }
}

/// The first balanced JSON object in `text` (code fences and prose around it are ignored).
pub fn extract_json_object(text: &str) -> Option<&str> {
    let bytes = text.as_bytes();
    let mut search = 0;
    while let Some(rel) = text[search..].find('{') {
        let start = search + rel;
        let (mut depth, mut in_str, mut escaped) = (0usize, false, false);
        for (i, &b) in bytes.iter().enumerate().skip(start) {
            if in_str {
                match b {
                    _ if escaped => escaped = false,
                    b'\\' => escaped = true,
                    b'"' => in_str = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => in_str = true,
                b'{' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        let candidate = &text[start..=i];
                        if serde_json::from_str::<Value>(candidate).is_ok() {
                            return Some(candidate);
                        }
                        break;
                    }
                }
                _ => {}
            }
        }
        search = start + 1;
    }
    None
}

fn fill_str(obj: &mut Map<String, Value>, key: &str, value: &str) {
    let empty = obj
        .get(key)
        .and_then(Value::as_str)
        .is_none_or(|s| s.trim().is_empty());
    if empty && !value.trim().is_empty() {
        obj.insert(key.to_string(), Value::String(value.trim().to_string()));
    }
}

/// Parses and repairs an answer: defaults from the request, word targets made numbers and clamped,
/// untitled chapters named, too many chapters cut. Then validates; the error says what to fix.
pub fn parse_architecture(answer: &str, req: &ArchitectureRequest) -> Result<Architecture, String> {
    let json = extract_json_object(answer).ok_or("the answer contains no JSON object")?;
    let mut value: Value = serde_json::from_str(json).map_err(|e| format!("invalid JSON: {e}"))?;
    let obj = value
        .as_object_mut()
        .ok_or("the answer is not a JSON object")?;
    fill_str(obj, "audience", &req.audience);
    fill_str(obj, "tone", &req.tone);
    // Written back as its code: the JSON form reads only "en" / "es", not the "ES" or "es-MX" a model
    // may answer.
    let language = obj
        .get("language")
        .and_then(Value::as_str)
        .and_then(Language::parse)
        .unwrap_or(req.language);
    obj.insert("language".into(), Value::String(language.code().into()));
    if let Some(Value::Array(chapters)) = obj.get_mut("chapters") {
        chapters.retain(Value::is_object);
        chapters.truncate(MAX_CHAPTERS);
        let default_words = (total_words(req) / u32::try_from(chapters.len().max(1)).unwrap_or(1))
            .clamp(MIN_TARGET_WORDS, MAX_TARGET_WORDS);
        for (i, ch) in chapters.iter_mut().enumerate() {
            let Some(ch) = ch.as_object_mut() else {
                continue;
            };
            fill_str(ch, "title", &format!("Chapter {}", i + 1));
            let words = match ch.get("target_words") {
                Some(Value::Number(n)) => n.as_f64(),
                Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
                _ => None,
            }
            .map_or(default_words, |w| {
                w.clamp(f64::from(MIN_TARGET_WORDS), f64::from(MAX_TARGET_WORDS)) as u32
            });
            ch.insert("target_words".into(), Value::from(words));
            if let Some(Value::String(s)) = ch.get("key_points").cloned() {
                ch.insert("key_points".into(), Value::Array(vec![Value::String(s)]));
            }
        }
    }
    let mut architecture: Architecture = serde_json::from_value(value)
        .map_err(|e| format!("the JSON does not have the required shape: {e}"))?;
    architecture.validate().map_err(|e| e.to_string())?;
    // Whatever lengths the model chose, the chapters fill the pages asked for.
    layout::fit_to_pages(&mut architecture, req.target_pages.clamp(10, 2000));
    Ok(architecture)
}

/// Asks the provider for an architecture (through the breaker and retry policy), repairing or
/// re-asking with the error until it validates.
pub async fn generate_architecture(
    deps: &EngineDeps,
    req: ArchitectureRequest,
) -> Result<ArchitectureResult, ArchitectureFailure> {
    let mut request = architecture_request(&req, deps.llm.max_output_tokens());
    let mut calls = Vec::new();
    let mut last_error = String::new();
    for _ in 0..=deps.config.architecture_repairs {
        let result = call_with_retry(deps, &request, &mut NoHooks, &mut |_| {}, &mut calls).await;
        let completion = result.map_err(|e| match e {
            CallError::Exhausted(e) => ArchitectureFailure::Temporary(e.to_string()),
            CallError::Permanent(e) => ArchitectureFailure::Permanent(e.to_string()),
            CallError::Halt(h) => ArchitectureFailure::Temporary(format!("{h:?}")),
        })?;
        match parse_architecture(&completion.text, &req) {
            Ok(architecture) => {
                let mut usage = Usage::default();
                calls.iter().for_each(|c| usage.add(c.usage));
                let cost_usd = calls.iter().map(|c| c.cost_usd).sum();
                return Ok(ArchitectureResult {
                    architecture,
                    usage,
                    cost_usd,
                    calls,
                });
            }
            Err(e) => {
                log::warn!("architecture answer unusable: {e}");
                request.messages.push(Message {
                    role: Role::Assistant,
                    content: completion.text,
                });
                request.messages.push(Message {
                    role: Role::User,
                    content: format!("That answer is not usable: {e}. Reply with the corrected JSON object only."),
                });
                last_error = e;
            }
        }
    }
    Err(ArchitectureFailure::Invalid(last_error))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req() -> ArchitectureRequest {
        ArchitectureRequest {
            idea: "A lighthouse keeper".into(),
            tone: "warm".into(),
            audience: "adults".into(),
            language: Language::Es,
            target_pages: 100,
            ..ArchitectureRequest::default()
        }
    }

    #[test]
    fn extracts_object_from_fences_and_prose() {
        let text = "Sure! Here it is:\n```json\n{\"title\":\"A {b}\",\"x\":{\"y\":\"}\"}}\n```\nEnjoy {not json}";
        assert_eq!(
            extract_json_object(text),
            Some("{\"title\":\"A {b}\",\"x\":{\"y\":\"}\"}}")
        );
        assert_eq!(extract_json_object("no object {here"), None);
        assert_eq!(
            extract_json_object("{bad} then {\"ok\":1}"),
            Some("{\"ok\":1}")
        );
    }

    #[test]
    fn a_language_with_case_or_region_is_read_as_its_code() {
        let answer = r#"{"title":"Lighthouse","language":"EN-us","chapters":[{"title":"One","summary":"s"}]}"#;
        let a = parse_architecture(answer, &req()).expect("repaired");
        assert_eq!(a.language, Language::En);
    }

    #[test]
    fn repairs_defaults_and_clamps_word_targets() {
        let answer = r#"```{"title":"Faro","language":"xx","chapters":[
            {"title":"Uno","target_words":50},{"title":"","target_words":"90000"},{"summary":"s","key_points":"one"}]}```"#;
        let a = parse_architecture(answer, &req()).expect("repaired");
        assert_eq!(a.language, Language::Es);
        assert_eq!(a.tone, "warm");
        assert_eq!(a.chapters[1].title, "Chapter 2");
        // Clamped (50 → 100, 90000 → 20000, none → a third of the book), then scaled together so
        // the book fills its 100 pages (the chapter held at the maximum leaves the rest to others).
        let words: Vec<u32> = a.chapters.iter().map(|c| c.target_words).collect();
        assert!(words[1] > words[2] && words[2] > words[0], "{words:?}");
        assert_eq!(words[1], MAX_TARGET_WORDS);
        assert!(words[0] >= MIN_TARGET_WORDS && words[0] < 200, "{words:?}");
        let total: u32 = words.iter().sum();
        let want = layout::words_for_pages(100, 3, Language::Es);
        assert!(total.abs_diff(want) <= 3, "{total} vs {want}");
        assert_eq!(a.chapters[2].key_points, vec!["one".to_string()]);
    }

    #[test]
    fn rejects_what_cannot_be_repaired() {
        assert!(parse_architecture("I cannot help", &req())
            .expect_err("rejected")
            .contains("no JSON"));
        assert!(
            parse_architecture(r#"{"chapters":[{"title":"x"}]}"#, &req()).is_err(),
            "no title"
        );
        assert!(parse_architecture(r#"{"title":"T","chapters":[]}"#, &req())
            .expect_err("rejected")
            .contains("no chapters"));
    }
}
