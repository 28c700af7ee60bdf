//! Model ids: the Claude family version read from a model name, used by the Anthropic provider
//! (which thinking mode to ask for) and by the price table.

/// `(major, minor)` of a Claude model id (`claude-sonnet-4-5-20250929`, `claude-opus-4-6`,
/// `claude-3-5-haiku-latest`); `None` for ids that are not Claude's (proxies, the fake server).
pub fn claude_version(model: &str) -> Option<(u32, u32)> {
    let rest = model.strip_prefix("claude-")?;
    let nums: Vec<Option<u32>> = rest
        .split('-')
        .map(|p| p.parse::<u32>().ok().filter(|n| *n < 100))
        .collect();
    let first = nums.iter().position(Option::is_some)?;
    let major = nums[first]?;
    let minor = nums.get(first + 1).copied().flatten().unwrap_or(0);
    Some((major, minor))
}
