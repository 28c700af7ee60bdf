//! Price per model (USD per million tokens: base input / output, and prompt caching's 5-minute cache
//! writes at 1.25× and cache hits at 0.1× the base input price; no batch discounts), from Anthropic's
//! published pricing page (Nov 2026). Matching is by model family and generation so dated
//! and dateless ids of one model share a price. Unknown Claude models cost as the current Sonnet; models
//! that are not Claude's (an OpenAI-compatible local server) are priced at 0, and the offline writer is
//! free. Update this table, and only it, when prices change.

use buko_actors::{Price, Usage};

use super::model_id::claude_version;

/// Prompt caching multipliers of the base input price (5-minute cache writes, cache hits).
pub const CACHE_WRITE_FACTOR: f64 = 1.25;
pub const CACHE_READ_FACTOR: f64 = 0.1;

const fn p(input: f64, output: f64) -> Price {
    Price {
        input_per_mtok: input,
        output_per_mtok: output,
        cache_write_per_mtok: input * CACHE_WRITE_FACTOR,
        cache_read_per_mtok: input * CACHE_READ_FACTOR,
    }
}

/// The price used for a Claude model this table does not know (documented in docs/LLM.md).
pub const DEFAULT_CLAUDE_PRICE: Price = p(3.0, 15.0);

/// Price of `model`.
pub fn price_for(model: &str) -> Price {
    let m = model.to_ascii_lowercase();
    if !m.starts_with("claude") {
        return Price::default();
    }
    let v = claude_version(&m).unwrap_or((0, 0));
    if m.contains("fable") || m.contains("mythos") {
        p(10.0, 50.0)
    } else if m.contains("opus") {
        match v {
            (5, minor) if minor >= 5 => p(4.0, 20.0),
            v if v >= (4, 5) => p(5.0, 25.0),
            _ => p(15.0, 75.0),
        }
    } else if m.contains("sonnet") {
        if v >= (5, 0) {
            p(2.0, 10.0)
        } else {
            p(3.0, 15.0)
        }
    } else if m.contains("haiku") {
        match v {
            v if v >= (5, 5) => p(0.10, 0.50),
            v if v >= (4, 5) => p(1.0, 5.0),
            (3, 5) => p(0.80, 4.0),
            (3, _) => p(0.25, 1.25),
            _ => p(1.0, 5.0),
        }
    } else {
        DEFAULT_CLAUDE_PRICE
    }
}

/// The shortest prompt prefix the model caches (Anthropic's published minimums, in tokens).
pub fn min_cacheable_tokens(model: &str) -> u64 {
    let m = model.to_ascii_lowercase();
    let v = claude_version(&m).unwrap_or((0, 0));
    if (m.contains("haiku") || m.contains("opus")) && v >= (4, 5) {
        4096
    } else if m.contains("haiku") || (m.contains("sonnet") && v >= (4, 6)) {
        2048
    } else {
        1024
    }
}

/// Estimated USD cost of a call (or of a whole book before it is written).
pub fn estimate_cost(model: &str, input_tokens: u64, output_tokens: u64) -> f64 {
    price_for(model).cost(Usage::new(input_tokens, output_tokens))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_and_generations() {
        assert_eq!(price_for("claude-sonnet-4-5-20250929"), p(3.0, 15.0));
        assert_eq!(price_for("claude-sonnet-5-5"), p(2.0, 10.0));
        assert_eq!(price_for("claude-opus-4-1"), p(15.0, 75.0));
        assert_eq!(price_for("claude-opus-4-6"), p(5.0, 25.0));
        assert_eq!(price_for("claude-opus-5-5"), p(4.0, 20.0));
        assert_eq!(price_for("claude-haiku-4-5-20251001"), p(1.0, 5.0));
        assert_eq!(price_for("claude-3-5-haiku-latest"), p(0.8, 4.0));
        assert_eq!(price_for("claude-something-new"), DEFAULT_CLAUDE_PRICE);
        assert_eq!(price_for("llama3.1:8b"), Price::default());
    }

    #[test]
    fn cached_input_costs_the_cache_rates() {
        let price = price_for("claude-sonnet-4-5");
        let usage = Usage {
            input_tokens: 100_000,
            output_tokens: 0,
            cache_creation_input_tokens: 1_000_000,
            cache_read_input_tokens: 1_000_000,
        };
        // 0.1 M × $3 + 1 M × $3.75 + 1 M × $0.30.
        assert!(
            (price.cost(usage) - 4.35).abs() < 1e-9,
            "{}",
            price.cost(usage)
        );
    }

    #[test]
    fn cost_is_tokens_times_price() {
        let c = estimate_cost("claude-sonnet-4-5", 1_000_000, 100_000);
        assert!((c - 4.5).abs() < 1e-9, "{c}");
    }
}
