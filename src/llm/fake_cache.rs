//! Prompt caching as the Anthropic API does it, for `buko fake-llm`: the request's text up to and
//! including its last block marked `cache_control` (the system prompt first, then the messages in
//! order) is the cached prefix. A prefix shorter than the model's minimum is not cached; one seen
//! within the last 5 minutes (each hit refreshes it) is read (`cache_read_input_tokens`), else written
//! (`cache_creation_input_tokens`); `input_tokens` is what remains. Tokens are the fake's estimate
//! (≈ 4 chars a token), the same as its other counts.

use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::offline::estimate_tokens;
use super::pricing::min_cacheable_tokens;

/// How long an entry lives after its last use (the API's default `ephemeral` TTL).
pub const CACHE_TTL: Duration = Duration::from_secs(5 * 60);

/// What the cache did for one request, in tokens.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheUse {
    pub creation: u64,
    pub read: u64,
}

fn block_text(block: &Value) -> &str {
    block.get("text").and_then(Value::as_str).unwrap_or("")
}

fn marked(block: &Value) -> bool {
    block.get("cache_control").is_some_and(|c| !c.is_null())
}

/// The text through the last `cache_control` block, or `None` when nothing is marked.
pub fn cached_prefix(body: &Value) -> Option<String> {
    let mut text = String::new();
    let mut prefix = None;
    let mut walk = |content: Option<&Value>| match content {
        Some(Value::String(s)) => text.push_str(s),
        Some(Value::Array(blocks)) => {
            for b in blocks {
                text.push_str(block_text(b));
                if marked(b) {
                    prefix = Some(text.len());
                }
            }
        }
        _ => {}
    };
    walk(body.get("system"));
    for m in body
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        walk(m.get("content"));
    }
    prefix.map(|n| text[..n].to_string())
}

#[derive(Default)]
pub struct PromptCache {
    entries: Mutex<HashMap<u64, Instant>>,
}

impl PromptCache {
    /// Reads or writes the prefix of `body` for `model`.
    pub fn apply(&self, model: &str, body: &Value) -> CacheUse {
        let Some(prefix) = cached_prefix(body) else {
            return CacheUse::default();
        };
        let tokens = estimate_tokens(&prefix);
        if tokens < min_cacheable_tokens(model) {
            return CacheUse::default();
        }
        let mut h = DefaultHasher::new();
        (model, &prefix).hash(&mut h);
        let key = h.finish();
        let now = Instant::now();
        let Ok(mut entries) = self.entries.lock() else {
            return CacheUse::default();
        };
        entries.retain(|_, until| *until > now);
        let hit = entries.insert(key, now + CACHE_TTL).is_some();
        if hit {
            CacheUse {
                creation: 0,
                read: tokens,
            }
        } else {
            CacheUse {
                creation: tokens,
                read: 0,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(stable: &str, rest: &str) -> Value {
        json!({"model": "claude-sonnet-4-5", "system": "sys ", "messages": [{"role": "user", "content": [
            {"type": "text", "text": stable, "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": rest}]}]})
    }

    #[test]
    fn a_long_marked_prefix_is_written_once_then_read() {
        let cache = PromptCache::default();
        let stable = "word ".repeat(1200);
        let first = cache.apply("claude-sonnet-4-5", &body(&stable, "part one"));
        let tokens = estimate_tokens(&format!("sys {stable}"));
        assert_eq!(
            first,
            CacheUse {
                creation: tokens,
                read: 0
            }
        );
        let second = cache.apply("claude-sonnet-4-5", &body(&stable, "part two"));
        assert_eq!(
            second,
            CacheUse {
                creation: 0,
                read: tokens
            }
        );
        // Another prefix, a short one, or no mark: no read.
        let other = cache.apply("claude-sonnet-4-5", &body(&format!("{stable}!"), "x"));
        assert_eq!(other.read, 0);
        assert_eq!(
            cache.apply("claude-sonnet-4-5", &body("short", "x")),
            CacheUse::default()
        );
        let plain = json!({"system": "s", "messages": [{"role": "user", "content": stable}]});
        assert_eq!(
            cache.apply("claude-sonnet-4-5", &plain),
            CacheUse::default()
        );
        assert_eq!(min_cacheable_tokens("claude-haiku-4-5"), 4096);
        assert_eq!(min_cacheable_tokens("claude-sonnet-5-5"), 2048);
    }
}
