//! The `offline` provider: a real `LlmPort` that writes deterministic demo text without a network (the
//! default when no key is configured). Chunks come from `offline_text` (seeded by book, seq and part),
//! summaries are short, and architecture calls get a valid architecture JSON built from the idea. It
//! honours the word budget and `max_tokens` (stopping with `MaxTokens`), continues a prefill from where
//! it stopped, and streams at `tokens_per_sec`. `is_demo()` is true: the UI and exports label it.

use std::time::Duration;

use buko_actors::model::{Bible, ChapterPlan, Character};
use buko_actors::{
    Architecture, CallPurpose, CompletionRequest, Language, LlmError, LlmEvent, LlmPort, Price,
    RequestContext, Role, StopReason, Usage,
};
use futures_util::stream::{self, LocalBoxStream, StreamExt};

use super::offline_text::{self as text, cast, seed_of, Rng};

#[derive(Clone, Copy, Debug)]
pub struct OfflineConfig {
    /// 0 = no delay.
    pub tokens_per_sec: f64,
    pub max_output_tokens: u32,
}

pub struct OfflineWriter {
    config: OfflineConfig,
}

/// Rough token count of a piece of text (≈ 4 characters per token, at least 1 per word).
pub fn estimate_tokens(s: &str) -> u64 {
    let chars = s.chars().count() as u64;
    chars.div_ceil(4).max(s.split_whitespace().count() as u64)
}

/// The pieces of `full` after the words of `prefill`. When the prefill was sent without its trailing
/// whitespace (the Anthropic API requires that), the continuation starts with that whitespace.
pub fn continuation<'a>(full: &'a str, prefill: &str) -> Vec<&'a str> {
    let skip = prefill.split_whitespace().count();
    let all = pieces(full);
    let mut out: Vec<&'a str> = Vec::new();
    if skip > 0 && !prefill.ends_with(char::is_whitespace) {
        if let Some(prev) = all.get(skip - 1) {
            let word_end = prev.trim_end().len();
            if word_end < prev.len() && skip < all.len() {
                out.push(&prev[word_end..]);
            }
        }
    }
    out.extend(all.into_iter().skip(skip));
    out
}

/// Splits text after each run of whitespace so pieces concatenate back to the text.
pub fn pieces(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_space = false;
    for (i, c) in s.char_indices() {
        if c.is_whitespace() {
            in_space = true;
        } else if in_space {
            out.push(&s[start..i]);
            start = i;
            in_space = false;
        }
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

fn title_case(words: &[&str]) -> String {
    words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let mut c = w.chars();
            match c.next() {
                Some(f) if i == 0 || w.chars().count() > 3 => f.to_uppercase().chain(c).collect(),
                _ => w.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// An architecture for the idea in `ctx`; always passes `Architecture::validate`.
pub fn architecture(ctx: &RequestContext) -> Architecture {
    let lang = ctx.language;
    let idea = ctx.idea.clone().unwrap_or_default();
    let words: Vec<&str> = idea
        .split(|c: char| c.is_whitespace() || ",.;:!?¿¡\"«»".contains(c))
        .filter(|w| !w.is_empty())
        .collect();
    let title = match (words.is_empty(), lang) {
        (true, Language::En) => "The Untold Story".to_string(),
        (true, Language::Es) => "La historia no contada".to_string(),
        (false, _) => title_case(&words[..words.len().min(6)]),
    };
    let mut rng = Rng::new(seed_of(&["architecture", &idea, lang.code()], &[]));
    let names = cast(lang, &title);
    let keywords: Vec<String> = words
        .iter()
        .filter(|w| w.chars().count() > 4)
        .map(|w| w.to_lowercase())
        .collect();
    let keyword = |rng: &mut Rng| -> String {
        if keywords.is_empty() {
            title.to_lowercase()
        } else {
            rng.pick(&keywords).to_string()
        }
    };
    let pages = ctx.target_pages.unwrap_or(40).clamp(4, 2000);
    let total_words = pages * 250;
    let count = (pages / 10).clamp(3, 24);
    let target_words = (total_words / count).clamp(300, 6000);
    let (heads, point_forms): (&[&str], &[&str]) = match lang {
        Language::En => (
            &[
                "The Beginning of {k}",
                "A Letter About {k}",
                "Where {n} Waits",
                "The Weight of {k}",
                "Crossing the {k}",
                "What {n} Found",
                "The Night of {k}",
                "Turning Points",
                "The Long Road",
                "Home Again",
            ],
            &[
                "{n} discovers something new about {k}",
                "a conflict over {k} comes to light",
                "{n} makes a difficult choice",
                "an old promise about {k} is tested",
                "{n} and {m} meet again",
            ],
        ),
        Language::Es => (
            &[
                "El comienzo de {k}",
                "Una carta sobre {k}",
                "Donde espera {n}",
                "El peso de {k}",
                "Cruzar {k}",
                "Lo que encontró {n}",
                "La noche de {k}",
                "Puntos de giro",
                "El camino largo",
                "De vuelta a casa",
            ],
            &[
                "{n} descubre algo nuevo sobre {k}",
                "sale a la luz un conflicto por {k}",
                "{n} toma una decisión difícil",
                "se pone a prueba una vieja promesa sobre {k}",
                "{n} y {m} vuelven a encontrarse",
            ],
        ),
    };
    let fill = |t: &str, rng: &mut Rng| {
        t.replace("{k}", &keyword(rng))
            .replace("{n}", rng.pick(&names))
            .replace("{m}", rng.pick(&names))
    };
    let chapters = (0..count)
        .map(|i| {
            let head = fill(heads[(i as usize) % heads.len()], &mut rng);
            let title = title_case(&head.split(' ').collect::<Vec<_>>());
            let key_points: Vec<String> = (0..3)
                .map(|_| fill(rng.pick(point_forms), &mut rng))
                .collect();
            let summary = match lang {
                Language::En => format!(
                    "Chapter {} follows {} as {}.",
                    i + 1,
                    names[0],
                    key_points[0]
                ),
                Language::Es => format!(
                    "El capítulo {} sigue a {} mientras {}.",
                    i + 1,
                    names[0],
                    key_points[0]
                ),
            };
            ChapterPlan {
                title,
                summary,
                key_points,
                target_words,
            }
        })
        .collect();
    let (subtitle, synopsis, audience, tone, roles, facts, style) = match lang {
        Language::En => (
            format!(
                "A {} in {} chapters",
                ctx.genre
                    .clone()
                    .filter(|s| !s.trim().is_empty())
                    .unwrap_or_else(|| "story".into()),
                count
            ),
            format!(
                "{} and {} follow an idea to its end: {}.",
                names[0],
                names[1],
                idea.trim()
            ),
            ctx.audience
                .clone()
                .filter(|s| !s.trim().is_empty())
                .unwrap_or_else(|| "General readers".into()),
            ctx.tone
                .clone()
                .filter(|s| !s.trim().is_empty())
                .unwrap_or_else(|| "Warm and clear".into()),
            ["protagonist", "companion", "rival"],
            vec![format!("The story begins with {}.", keyword(&mut rng))],
            vec!["Short paragraphs, concrete images.".to_string()],
        ),
        Language::Es => (
            format!(
                "Una {} en {} capítulos",
                ctx.genre
                    .clone()
                    .filter(|s| !s.trim().is_empty())
                    .unwrap_or_else(|| "historia".into()),
                count
            ),
            format!(
                "{} y {} siguen una idea hasta el final: {}.",
                names[0],
                names[1],
                idea.trim()
            ),
            ctx.audience
                .clone()
                .filter(|s| !s.trim().is_empty())
                .unwrap_or_else(|| "Público general".into()),
            ctx.tone
                .clone()
                .filter(|s| !s.trim().is_empty())
                .unwrap_or_else(|| "Cálido y claro".into()),
            ["protagonista", "compañía", "rival"],
            vec![format!("La historia comienza con {}.", keyword(&mut rng))],
            vec!["Párrafos breves, imágenes concretas.".to_string()],
        ),
    };
    Architecture {
        title,
        subtitle,
        synopsis,
        audience,
        tone,
        language: lang,
        bible: Bible {
            characters: names
                .iter()
                .zip(roles)
                .map(|(n, r)| Character {
                    name: n.clone(),
                    role: r.into(),
                    description: None,
                })
                .collect(),
            facts,
            style,
            learned: Default::default(),
        },
        chapters,
    }
}

impl OfflineWriter {
    pub fn new(config: OfflineConfig) -> Self {
        OfflineWriter { config }
    }

    /// The whole answer for a request, before `max_tokens` and the prefill are applied.
    pub fn full_text(request: &CompletionRequest) -> String {
        match request.purpose {
            CallPurpose::Architecture => {
                serde_json::to_string_pretty(&architecture(&request.context))
                    .unwrap_or_else(|_| "{}".into())
            }
            CallPurpose::Summary | CallPurpose::Note => text::summary(&request.context),
            CallPurpose::Chunk => text::chunk_text(&request.context),
            // Images are not text: the image port makes them.
            CallPurpose::CoverImage => String::new(),
            CallPurpose::Ledger | CallPurpose::Audit => {
                let user = request.messages.last().map_or("", |m| m.content.as_str());
                super::offline_memory::memory_answer(
                    &request.system,
                    user,
                    request.context.language,
                    false,
                )
                .unwrap_or_else(|| "{}".into())
            }
        }
    }
}

impl LlmPort for OfflineWriter {
    fn provider(&self) -> &str {
        "offline"
    }
    fn model(&self) -> &str {
        "offline-demo"
    }
    fn max_output_tokens(&self) -> u32 {
        self.config.max_output_tokens
    }
    fn price(&self) -> Price {
        Price::default()
    }
    fn is_demo(&self) -> bool {
        true
    }

    fn stream(
        &self,
        request: CompletionRequest,
    ) -> LocalBoxStream<'static, Result<LlmEvent, LlmError>> {
        let full = Self::full_text(&request);
        let prefill = match request.messages.last() {
            Some(m) if m.role == Role::Assistant => m.content.as_str(),
            _ => "",
        };
        let limit = u64::from(
            request
                .max_tokens
                .clamp(1, self.config.max_output_tokens.max(1)),
        );
        let input_tokens = estimate_tokens(&request.system)
            + request
                .messages
                .iter()
                .map(|m| estimate_tokens(&m.content))
                .sum::<u64>();
        let mut deltas: Vec<(String, u64)> = Vec::new();
        let mut used = 0u64;
        let mut stop = StopReason::EndTurn;
        let mut current = (String::new(), 0u64);
        for piece in continuation(&full, prefill) {
            let t = estimate_tokens(piece).max(1);
            if used + t > limit {
                stop = StopReason::MaxTokens;
                break;
            }
            used += t;
            current.0.push_str(piece);
            current.1 += t;
            if current.1 >= 12 {
                deltas.push(std::mem::take(&mut current));
            }
        }
        if !current.0.is_empty() {
            deltas.push(current);
        }
        let tps = self.config.tokens_per_sec;
        let finished = LlmEvent::Finished {
            stop_reason: stop,
            usage: Usage::new(input_tokens, used),
            request_id: None,
        };
        let items = deltas.into_iter().map(Some).chain(std::iter::once(None));
        stream::iter(items)
            .then(move |item| {
                let finished = finished.clone();
                async move {
                    match item {
                        Some((text, tokens)) => {
                            if tps > 0.0 {
                                tokio::time::sleep(Duration::from_secs_f64(tokens as f64 / tps))
                                    .await;
                            }
                            Ok(LlmEvent::TextDelta(text))
                        }
                        None => Ok(finished),
                    }
                }
            })
            .boxed_local()
    }
}
