//! What a call used and what it costs: token counts (prompt caching's writes and reads apart from
//! the rest of the input) and a model's price per million tokens. Re-exported by `ports`.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Input tokens billed at the base rate (with prompt caching: those not read from or written to
    /// the cache, as Anthropic reports `input_tokens`).
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Input tokens written to the provider's prompt cache (billed at its cache-write rate).
    #[serde(default)]
    pub cache_creation_input_tokens: u64,
    /// Input tokens read from the provider's prompt cache (billed at its cache-read rate).
    #[serde(default)]
    pub cache_read_input_tokens: u64,
}

impl Usage {
    /// Only input and output (no caching).
    pub fn new(input_tokens: u64, output_tokens: u64) -> Usage {
        Usage {
            input_tokens,
            output_tokens,
            ..Usage::default()
        }
    }

    pub fn add(&mut self, other: Usage) {
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
        self.cache_creation_input_tokens += other.cache_creation_input_tokens;
        self.cache_read_input_tokens += other.cache_read_input_tokens;
    }

    /// Every input token, cached or not.
    pub fn total_input(&self) -> u64 {
        self.input_tokens + self.cache_creation_input_tokens + self.cache_read_input_tokens
    }
}

/// USD per million tokens.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Price {
    pub input_per_mtok: f64,
    pub output_per_mtok: f64,
    /// Input written to the prompt cache.
    #[serde(default)]
    pub cache_write_per_mtok: f64,
    /// Input read from the prompt cache.
    #[serde(default)]
    pub cache_read_per_mtok: f64,
}

impl Price {
    /// A price without prompt caching (cached input costs as much as any input).
    pub fn flat(input_per_mtok: f64, output_per_mtok: f64) -> Price {
        Price {
            input_per_mtok,
            output_per_mtok,
            cache_write_per_mtok: input_per_mtok,
            cache_read_per_mtok: input_per_mtok,
        }
    }

    pub fn cost(&self, usage: Usage) -> f64 {
        (usage.input_tokens as f64 * self.input_per_mtok
            + usage.output_tokens as f64 * self.output_per_mtok
            + usage.cache_creation_input_tokens as f64 * self.cache_write_per_mtok
            + usage.cache_read_input_tokens as f64 * self.cache_read_per_mtok)
            / 1_000_000.0
    }

    /// What the input of `usage` cost (cached and uncached).
    pub fn input_cost(&self, usage: Usage) -> f64 {
        self.cost(Usage {
            output_tokens: 0,
            ..usage
        })
    }
}
