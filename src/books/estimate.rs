//! What writing a book should cost, shown with its architecture before approval. It walks the
//! engine's own plan: every chunk's prompt is built as the engine builds it (the stable prefix, a full
//! rolling summary and previous-chunk tail once they exist) and measured at ≈ 4 chars a token; each
//! chunk's output is its word budget ÷ words per token; every chapter but the last adds a summary
//! call; the book's memory adds, per chapter, notes on the parts of a long chapter and the story
//! ledger (all but the last) and the continuity audit (when on), each built as the engine builds it.
//! With prompt caching (Anthropic) the first chunk writes the prefix to the cache and the rest
//! read it, when it reaches the model's minimum. Priced with the provider's table (`llm::pricing`)
//! and the step's model; the printed length comes from the PDF calibration (`buko_actors::layout`).
//! Measured against the actual cost of books in `docs/PERFORMANCE.md`.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;

use buko_actors::audit::audit_request;
use buko_actors::ledger::ledger_request;
use buko_actors::memory::{chapter_parts, note_request};
use buko_actors::plan::plan_chunks;
use buko_actors::prompt::chunk_request;
use buko_actors::{layout, Architecture, CompletionRequest, EngineConfig, Usage};

use super::{BookService, CostModel};
use crate::db::repo::books::Book;
use crate::llm::pricing::{min_cacheable_tokens, price_for};

/// What writing an architecture's words should cost.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CostEstimate {
    /// Input billed at the base rate (cache writes included in `cache_write_tokens`).
    pub input_tokens: u64,
    pub cache_write_tokens: u64,
    pub cache_read_tokens: u64,
    pub output_tokens: u64,
    pub usd: f64,
    /// Pages of the PDF export.
    pub pages: u32,
}

fn tokens(chars: usize) -> u64 {
    (chars as u64).div_ceil(4)
}

/// Words to tokens as the engine plans them.
fn output_tokens(words: u64, config: &EngineConfig) -> u64 {
    (words as f64 / config.words_per_token.max(0.05)).ceil() as u64
}

/// Output tokens a ledger and an audit answer take (short JSON lists: 187 and 117 on average on the
/// fake provider's books, docs/PERFORMANCE.md).
const LEDGER_OUTPUT_TOKENS: u64 = 200;
const AUDIT_OUTPUT_TOKENS: u64 = 150;

/// Words of a note on one of `parts` parts: what it is asked for, at most a summary's length (a
/// model asked for "at most N words" writes about a summary).
fn note_words(parts: usize, config: &EngineConfig) -> usize {
    (config.summary_source_chars / parts.max(1) / 7).min(config.summary_chars / 7)
}

/// Chars of what a chapter's ledger and summary read: the chapter, or its notes when it is long.
fn source_chars(chapter_chars: usize, config: &EngineConfig) -> usize {
    let parts = chapter_chars.div_ceil(config.summary_source_chars.max(1));
    if parts > 1 {
        parts * (note_words(parts, config) * 6 + 20)
    } else {
        chapter_chars
    }
}

fn request_tokens(req: &CompletionRequest) -> u64 {
    let chars: usize = req.messages.iter().map(|m| m.content.len()).sum();
    tokens(req.system.len() + chars)
}

/// The memory calls of a book (notes, ledger, audit) as the engine makes them after each chapter.
fn memory_usage(
    arch: &Architecture,
    model: &CostModel,
    config: &EngineConfig,
    audit: bool,
) -> Usage {
    let summary = "x".repeat(config.summary_chars);
    let max_out = model.max_output_tokens;
    let last = arch.chapters.len().saturating_sub(1);
    let mut usage = Usage::default();
    for (i, c) in arch.chapters.iter().enumerate() {
        let text = "x ".repeat(c.target_words as usize * 3);
        let story = (i > 0).then_some(summary.as_str());
        if audit {
            for part in chapter_parts(std::slice::from_ref(&text), config.audit_source_chars) {
                let req = audit_request(arch, i, story, &part, "estimate", max_out, config);
                usage.add(Usage::new(request_tokens(&req), AUDIT_OUTPUT_TOKENS));
            }
        }
        if i == last {
            continue;
        }
        let parts = chapter_parts(std::slice::from_ref(&text), config.summary_source_chars);
        if parts.len() > 1 {
            for (p, part) in parts.iter().enumerate() {
                let req =
                    note_request(arch, i, (p, parts.len()), part, "estimate", max_out, config);
                let out = output_tokens(note_words(parts.len(), config) as u64, config);
                usage.add(Usage::new(request_tokens(&req), out));
            }
        }
        let source = "x".repeat(source_chars(text.len(), config));
        let req = ledger_request(arch, i, &source, "estimate", max_out, config);
        usage.add(Usage::new(request_tokens(&req), LEDGER_OUTPUT_TOKENS));
    }
    usage
}

/// The estimate for `arch` written by `model`, the continuity audit on or off (pure; see the
/// module doc).
pub fn estimate(
    arch: &Architecture,
    model: &CostModel,
    config: &EngineConfig,
    audit: bool,
) -> CostEstimate {
    let words: u64 = arch
        .chapters
        .iter()
        .map(|c| u64::from(c.target_words))
        .sum();
    let pages = layout::pages_for_words(words, arch.chapters.len(), arch.language).round() as u32;
    let plan = plan_chunks(arch, model.max_output_tokens, config);
    let summary = "x".repeat(config.summary_chars);
    let tail = "x".repeat(config.tail_chars);
    let min_cached = min_cacheable_tokens(&model.model);
    let mut chunks = Usage::default();
    for chunk in &plan {
        let req = chunk_request(
            arch,
            chunk,
            (chunk.chapter_index > 0).then_some(summary.as_str()),
            (chunk.seq > 1).then_some(tail.as_str()),
            "estimate",
            model.max_output_tokens,
            config,
        );
        let chars: usize = req.messages.iter().map(|m| m.content.len()).sum();
        let all = tokens(req.system.len() + chars);
        let prefix = tokens(req.system.len() + req.context.stable_prefix.unwrap_or(0));
        let cached = model.prompt_cache && prefix >= min_cached;
        chunks.add(Usage {
            input_tokens: if cached { all - prefix } else { all },
            output_tokens: output_tokens(u64::from(chunk.word_budget), config),
            cache_creation_input_tokens: if cached && chunk.seq == 1 { prefix } else { 0 },
            cache_read_input_tokens: if cached && chunk.seq > 1 { prefix } else { 0 },
        });
    }
    // A summary reads the story so far and the chapter (≈ 6 chars a word), answers ≈ summary_chars.
    let mut summaries = Usage::default();
    for c in arch
        .chapters
        .iter()
        .take(arch.chapters.len().saturating_sub(1))
    {
        let chapter_chars = source_chars(c.target_words as usize * 6, config);
        summaries.add(Usage::new(
            tokens(config.summary_chars + chapter_chars + 400),
            output_tokens((config.summary_chars / 7) as u64, config),
        ));
    }
    summaries.add(memory_usage(arch, model, config, audit));
    let usd = if model.free {
        0.0
    } else {
        price_for(&model.model).cost(chunks) + price_for(&model.summary_model).cost(summaries)
    };
    let mut all = chunks;
    all.add(summaries);
    CostEstimate {
        input_tokens: all.input_tokens,
        cache_write_tokens: all.cache_creation_input_tokens,
        cache_read_tokens: all.cache_read_input_tokens,
        output_tokens: all.output_tokens,
        usd,
        pages,
    }
}

/// Estimates already made, by what they depend on (the architecture and the audit setting; the
/// cost model is the service's own). An estimate builds every chunk's prompt as the engine would,
/// and `GET /api/v1/books/{id}` shows one on every read: a client polling a writing book asked for the
/// same one again and again (the profile of the load test found the prompt builders on the HTTP
/// workers). Bounded: emptied when full.
#[derive(Default)]
pub struct EstimateCache {
    entries: Mutex<HashMap<u64, CostEstimate>>,
}

/// Estimates kept at most.
const CACHED_ESTIMATES: usize = 4_096;

impl EstimateCache {
    fn get_or_make(&self, key: u64, make: impl FnOnce() -> CostEstimate) -> CostEstimate {
        if let Some(e) = self.lock().get(&key) {
            return *e;
        }
        let e = make();
        let mut entries = self.lock();
        if entries.len() >= CACHED_ESTIMATES {
            entries.clear();
        }
        entries.insert(key, e);
        e
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, CostEstimate>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

impl BookService {
    /// The estimate shown with a book's architecture (zero without one), with the book's audit
    /// setting; made once per architecture and setting (see [`EstimateCache`]).
    pub fn estimate_cost(&self, book: &Book, arch: Option<&Architecture>) -> CostEstimate {
        let Some(arch) = arch else {
            return CostEstimate::default();
        };
        let audit = book.continuity_audit;
        let mut h = std::collections::hash_map::DefaultHasher::new();
        serde_json::to_string(arch).unwrap_or_default().hash(&mut h);
        audit.hash(&mut h);
        self.estimates.get_or_make(h.finish(), || {
            estimate(arch, &self.cost_model, &EngineConfig::default(), audit)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use buko_actors::model::ChapterPlan;

    #[test]
    fn an_estimate_is_made_once_per_key_and_the_cache_stays_bounded() {
        let cache = EstimateCache::default();
        let made = std::cell::Cell::new(0);
        let make = |usd: f64| {
            made.set(made.get() + 1);
            CostEstimate {
                usd,
                ..CostEstimate::default()
            }
        };
        assert_eq!(cache.get_or_make(1, || make(1.0)).usd, 1.0);
        assert_eq!(cache.get_or_make(1, || make(9.0)).usd, 1.0);
        assert_eq!(made.get(), 1);
        for k in 2..=CACHED_ESTIMATES as u64 + 1 {
            cache.get_or_make(k, || make(0.0));
        }
        assert!(cache.len() <= CACHED_ESTIMATES);
        assert_eq!(
            cache.get_or_make(1, || make(2.0)).usd,
            2.0,
            "emptied when full"
        );
    }

    fn arch(chapters: usize, words: u32) -> Architecture {
        Architecture {
            title: "Tides".into(),
            chapters: (0..chapters)
                .map(|i| ChapterPlan {
                    title: format!("Chapter {i} of the long voyage across the northern sea"),
                    target_words: words,
                    ..ChapterPlan::default()
                })
                .collect(),
            ..Architecture::default()
        }
    }

    fn model(prompt_cache: bool) -> CostModel {
        CostModel {
            model: "claude-sonnet-4-5".into(),
            summary_model: "claude-sonnet-4-5".into(),
            free: false,
            max_output_tokens: 8192,
            prompt_cache,
        }
    }

    #[test]
    fn output_dominates_and_follows_the_words() {
        let c = EngineConfig::default();
        let e = estimate(&arch(10, 3000), &model(false), &c, false);
        // 30,000 words ÷ 0.75 = 40,000 output tokens, plus 9 summaries of 342 words (456 tokens);
        // each of those 18,000-char chapters is read as two notes of 342 words, and 9 ledgers.
        assert_eq!(
            e.output_tokens,
            40_000 + 9 * 456 + 9 * 2 * 456 + 9 * LEDGER_OUTPUT_TOKENS
        );
        let audited = estimate(&arch(10, 3000), &model(false), &c, true);
        assert_eq!(
            audited.output_tokens,
            e.output_tokens + 10 * AUDIT_OUTPUT_TOKENS
        );
        let twice = estimate(&arch(20, 3000), &model(false), &c, false);
        assert!(twice.usd > 1.9 * e.usd && twice.usd < 2.1 * e.usd);
        assert_eq!(e.cache_read_tokens, 0);
        let free = CostModel {
            free: true,
            ..model(false)
        };
        assert_eq!(estimate(&arch(10, 3000), &free, &c, false).usd, 0.0);
    }

    #[test]
    fn a_short_prefix_is_not_cached_and_a_long_one_is() {
        let c = EngineConfig::default();
        let small = estimate(&arch(10, 3000), &model(true), &c, false);
        assert_eq!(small.cache_read_tokens, 0, "below the model's minimum");
        let big = estimate(&arch(150, 300), &model(true), &c, false);
        let plain = estimate(&arch(150, 300), &model(false), &c, false);
        assert!(big.cache_read_tokens > 0 && big.cache_write_tokens > 0);
        assert!(big.usd < plain.usd);
    }
}
