//! LLM settings from the environment and the one place that turns them into a provider. Every variable
//! is listed in docs/LLM.md. Keys are `Secret`s, so `Debug` of the settings is safe to log.

use std::sync::Arc;
use std::time::Duration;

use buko_actors::LlmPort;

use super::anthropic::{AnthropicConfig, AnthropicProvider};
use super::http::Timeouts;
use super::offline::{OfflineConfig, OfflineWriter};
use super::openai::{OpenAiConfig, OpenAiProvider};
use super::step_models::StepModels;
use crate::secret::Secret;

pub const DEFAULT_ANTHROPIC_BASE_URL: &str = "https://api.anthropic.com";
/// The current Claude Sonnet (dateless id format of the 4.6+ generations).
pub const DEFAULT_ANTHROPIC_MODEL: &str = "claude-sonnet-5-5";
pub const DEFAULT_OPENAI_MODEL: &str = "gpt-4o-mini";
pub const DEFAULT_MAX_OUTPUT_TOKENS: u32 = 8192;
pub const DEFAULT_OFFLINE_TOKENS_PER_SEC: f64 = 2000.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProviderKind {
    Anthropic,
    OpenAi,
    Offline,
}

impl ProviderKind {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "anthropic" => Some(ProviderKind::Anthropic),
            "openai" => Some(ProviderKind::OpenAi),
            "offline" => Some(ProviderKind::Offline),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct LlmSettings {
    pub provider: ProviderKind,
    pub anthropic_base_url: String,
    pub anthropic_api_key: Secret,
    pub openai_base_url: String,
    pub openai_api_key: Secret,
    /// `BUKO_MODEL`; `None` = the provider's default.
    pub model: Option<String>,
    /// `BUKO_MODEL_ARCHITECTURE`, `_CHUNK`, `_SUMMARY`, `_AUDIT`: a model per step (default `model`).
    pub step_models: StepModels,
    pub thinking_budget: Option<u32>,
    pub max_output_tokens: u32,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub stall_timeout: Duration,
    pub offline_tokens_per_sec: f64,
    /// `BUKO_PROMPT_CACHE` (default on): mark the stable prefix of chunk requests for Anthropic's
    /// prompt cache.
    pub prompt_cache: bool,
}

#[derive(Debug, thiserror::Error)]
#[error("invalid LLM setting {var}: {reason}")]
pub struct SettingsError {
    pub var: &'static str,
    pub reason: String,
}

impl LlmSettings {
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Same as `from_env` over any source (tests pass a map instead of mutating the process env).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let var = |k: &str| {
            get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        fn num<T: std::str::FromStr>(
            var: &'static str,
            v: Option<String>,
        ) -> Result<Option<T>, SettingsError> {
            v.map(|s| {
                s.parse::<T>().map_err(|_| SettingsError {
                    var,
                    reason: format!("not a number: {s:?}"),
                })
            })
            .transpose()
        }
        let anthropic_api_key = Secret::new(var("ANTHROPIC_API_KEY").unwrap_or_default());
        let openai_base_url = var("OPENAI_BASE_URL");
        let provider = match var("BUKO_LLM_PROVIDER") {
            Some(p) => ProviderKind::parse(&p).ok_or(SettingsError {
                var: "BUKO_LLM_PROVIDER",
                reason: format!("{p:?} is not anthropic, openai or offline"),
            })?,
            None if !anthropic_api_key.is_empty() => ProviderKind::Anthropic,
            None if openai_base_url.is_some() => ProviderKind::OpenAi,
            None => ProviderKind::Offline,
        };
        if provider == ProviderKind::Anthropic && anthropic_api_key.is_empty() {
            return Err(SettingsError {
                var: "ANTHROPIC_API_KEY",
                reason: "required by the anthropic provider".into(),
            });
        }
        let secs = |k: &'static str, d: u64| -> Result<Duration, SettingsError> {
            Ok(Duration::from_secs_f64(
                num::<f64>(k, var(k))?.unwrap_or(d as f64).max(0.001),
            ))
        };
        Ok(LlmSettings {
            provider,
            anthropic_base_url: var("ANTHROPIC_BASE_URL")
                .unwrap_or_else(|| DEFAULT_ANTHROPIC_BASE_URL.into()),
            anthropic_api_key,
            openai_base_url: openai_base_url.unwrap_or_else(|| "https://api.openai.com/v1".into()),
            openai_api_key: Secret::new(var("OPENAI_API_KEY").unwrap_or_default()),
            model: var("BUKO_MODEL"),
            step_models: StepModels::from_lookup(var),
            thinking_budget: num::<u32>("BUKO_THINKING_BUDGET", var("BUKO_THINKING_BUDGET"))?
                .filter(|b| *b > 0),
            max_output_tokens: num::<u32>("BUKO_MAX_OUTPUT_TOKENS", var("BUKO_MAX_OUTPUT_TOKENS"))?
                .unwrap_or(DEFAULT_MAX_OUTPUT_TOKENS)
                .max(64),
            connect_timeout: secs("BUKO_LLM_CONNECT_TIMEOUT_SECS", 10)?,
            request_timeout: secs("BUKO_LLM_REQUEST_TIMEOUT_SECS", 120)?,
            stall_timeout: secs("BUKO_LLM_STALL_TIMEOUT_SECS", 90)?,
            offline_tokens_per_sec: num::<f64>(
                "BUKO_OFFLINE_TOKENS_PER_SEC",
                var("BUKO_OFFLINE_TOKENS_PER_SEC"),
            )?
            .unwrap_or(DEFAULT_OFFLINE_TOKENS_PER_SEC)
            .max(0.0),
            prompt_cache: match var("BUKO_PROMPT_CACHE").as_deref() {
                None | Some("1" | "on" | "true" | "yes") => true,
                Some("0" | "off" | "false" | "no") => false,
                Some(other) => {
                    return Err(SettingsError {
                        var: "BUKO_PROMPT_CACHE",
                        reason: format!("{other:?} is not on or off"),
                    })
                }
            },
        })
    }

    pub fn timeouts(&self) -> Timeouts {
        Timeouts {
            connect: self.connect_timeout,
            request: self.request_timeout,
            stall: self.stall_timeout,
        }
    }
}

/// The provider the settings name, shared by every arbiter of the node.
pub fn build_provider(s: &LlmSettings) -> Arc<dyn LlmPort> {
    super::init_tls();
    match s.provider {
        ProviderKind::Anthropic => Arc::new(AnthropicProvider::new(AnthropicConfig {
            base_url: s.anthropic_base_url.clone(),
            api_key: s.anthropic_api_key.clone(),
            model: s
                .model
                .clone()
                .unwrap_or_else(|| DEFAULT_ANTHROPIC_MODEL.into()),
            max_output_tokens: s.max_output_tokens,
            thinking_budget: s.thinking_budget,
            timeouts: s.timeouts(),
            prompt_cache: s.prompt_cache,
            step_models: s.step_models.clone(),
        })),
        ProviderKind::OpenAi => Arc::new(OpenAiProvider::new(OpenAiConfig {
            base_url: s.openai_base_url.clone(),
            api_key: s.openai_api_key.clone(),
            model: s
                .model
                .clone()
                .unwrap_or_else(|| DEFAULT_OPENAI_MODEL.into()),
            max_output_tokens: s.max_output_tokens,
            timeouts: s.timeouts(),
            step_models: s.step_models.clone(),
        })),
        ProviderKind::Offline => Arc::new(OfflineWriter::new(OfflineConfig {
            tokens_per_sec: s.offline_tokens_per_sec,
            max_output_tokens: s.max_output_tokens,
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(pairs: &[(&str, &str)]) -> Result<LlmSettings, SettingsError> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        LlmSettings::from_lookup(|k| m.get(k).cloned())
    }

    #[test]
    fn provider_defaults_follow_the_keys() {
        assert_eq!(
            settings(&[]).map(|s| s.provider).ok(),
            Some(ProviderKind::Offline)
        );
        assert_eq!(
            settings(&[("OPENAI_BASE_URL", "http://l/v1")])
                .map(|s| s.provider)
                .ok(),
            Some(ProviderKind::OpenAi)
        );
        let s = settings(&[
            ("ANTHROPIC_API_KEY", "sk-ant-secret"),
            ("OPENAI_BASE_URL", "http://l/v1"),
        ]);
        let s = s.expect("valid");
        assert_eq!(s.provider, ProviderKind::Anthropic);
        assert!(!format!("{s:?}").contains("sk-ant-secret"));
        assert_eq!(build_provider(&s).model(), DEFAULT_ANTHROPIC_MODEL);
        assert!(settings(&[("BUKO_LLM_PROVIDER", "anthropic")]).is_err());
        assert!(settings(&[("BUKO_LLM_PROVIDER", "other")]).is_err());
        assert!(settings(&[("BUKO_THINKING_BUDGET", "lots")]).is_err());
        assert!(s.prompt_cache);
        assert!(settings(&[("BUKO_PROMPT_CACHE", "off")]).is_ok_and(|s| !s.prompt_cache));
        assert!(settings(&[("BUKO_PROMPT_CACHE", "maybe")]).is_err());
    }

    #[test]
    fn offline_is_demo_and_free() {
        let p = build_provider(&settings(&[("BUKO_OFFLINE_TOKENS_PER_SEC", "0")]).expect("valid"));
        assert!(p.is_demo());
        assert_eq!(p.price().cost(buko_actors::Usage::new(10, 10)), 0.0);
    }
}
