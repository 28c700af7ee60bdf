//! Image settings from the environment (`BUKO_IMAGE_*`, listed in README's configuration table) and
//! the one place that turns them into a provider. The key is a `Secret`: `Debug` is safe to log.

use std::sync::Arc;
use std::time::Duration;

use super::offline::OfflineImages;
use super::openai::{OpenAiImages, OpenAiImagesConfig};
use super::ImagePort;
use crate::secret::Secret;

pub const DEFAULT_IMAGE_BASE_URL: &str = "https://api.openai.com";
pub const DEFAULT_IMAGE_MODEL: &str = "gpt-image-1";
pub const DEFAULT_IMAGE_SIZE: &str = "1024x1536";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageProviderKind {
    Offline,
    OpenAi,
}

#[derive(Clone, Debug)]
pub struct ImageSettings {
    /// `BUKO_IMAGE_PROVIDER`: `offline` (default) or `openai`.
    pub provider: ImageProviderKind,
    /// `BUKO_IMAGE_BASE_URL`, without `/v1`.
    pub base_url: String,
    /// `BUKO_IMAGE_API_KEY` (empty for local servers that need none).
    pub api_key: Secret,
    /// `BUKO_IMAGE_MODEL`.
    pub model: String,
    /// `BUKO_IMAGE_SIZE`.
    pub size: String,
    /// `BUKO_IMAGE_TIMEOUT_SECS` (default 120): the whole call, answer included.
    pub timeout: Duration,
    /// `BUKO_IMAGE_PRICE_USD` (default 0.06 for `openai`): recorded per image in the usage ledger.
    pub price_per_image: f64,
}

impl Default for ImageSettings {
    fn default() -> Self {
        ImageSettings {
            provider: ImageProviderKind::Offline,
            base_url: DEFAULT_IMAGE_BASE_URL.into(),
            api_key: Secret::new(String::new()),
            model: DEFAULT_IMAGE_MODEL.into(),
            size: DEFAULT_IMAGE_SIZE.into(),
            timeout: Duration::from_secs(120),
            price_per_image: 0.06,
        }
    }
}

impl ImageSettings {
    pub fn from_env() -> Result<Self, ImageSettingsError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ImageSettingsError> {
        let var = |k: &str| {
            get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let mut s = ImageSettings::default();
        if let Some(p) = var("BUKO_IMAGE_PROVIDER") {
            s.provider = match p.to_ascii_lowercase().as_str() {
                "offline" => ImageProviderKind::Offline,
                "openai" => ImageProviderKind::OpenAi,
                _ => {
                    return Err(ImageSettingsError {
                        name: "BUKO_IMAGE_PROVIDER",
                        value: p,
                        expected: "offline or openai",
                    })
                }
            };
        }
        if let Some(v) = var("BUKO_IMAGE_BASE_URL") {
            s.base_url = v;
        }
        s.api_key = Secret::new(var("BUKO_IMAGE_API_KEY").unwrap_or_default());
        if let Some(v) = var("BUKO_IMAGE_MODEL") {
            s.model = v;
        }
        if let Some(v) = var("BUKO_IMAGE_SIZE") {
            s.size = v;
        }
        if let Some(v) = var("BUKO_IMAGE_TIMEOUT_SECS") {
            let secs: f64 = v
                .parse()
                .ok()
                .filter(|x: &f64| x.is_finite() && *x > 0.0)
                .ok_or_else(|| ImageSettingsError {
                    name: "BUKO_IMAGE_TIMEOUT_SECS",
                    value: v.clone(),
                    expected: "a positive number",
                })?;
            s.timeout = Duration::from_secs_f64(secs);
        }
        if let Some(v) = var("BUKO_IMAGE_PRICE_USD") {
            s.price_per_image = v
                .parse()
                .ok()
                .filter(|x: &f64| x.is_finite() && *x >= 0.0)
                .ok_or_else(|| ImageSettingsError {
                    name: "BUKO_IMAGE_PRICE_USD",
                    value: v.clone(),
                    expected: "a price",
                })?;
        }
        Ok(s)
    }
}

/// A `BUKO_IMAGE_*` variable that does not say what it must.
#[derive(Debug, thiserror::Error)]
#[error("{name}={value:?} is not {expected}")]
pub struct ImageSettingsError {
    pub name: &'static str,
    pub value: String,
    pub expected: &'static str,
}

/// The provider the settings name.
pub fn build_image_provider(s: &ImageSettings) -> Arc<dyn ImagePort> {
    match s.provider {
        ImageProviderKind::Offline => Arc::new(OfflineImages),
        ImageProviderKind::OpenAi => {
            crate::llm::init_tls();
            Arc::new(OpenAiImages::new(OpenAiImagesConfig {
                base_url: s.base_url.clone(),
                api_key: s.api_key.clone(),
                model: s.model.clone(),
                size: s.size.clone(),
                timeout: s.timeout,
                price_per_image: s.price_per_image,
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offline_by_default_and_bad_values_named() {
        let s = ImageSettings::from_lookup(|_| None).expect("defaults");
        assert_eq!(s.provider, ImageProviderKind::Offline);
        assert_eq!(build_image_provider(&s).price_per_image(), 0.0);
        let s = ImageSettings::from_lookup(|k| match k {
            "BUKO_IMAGE_PROVIDER" => Some("openai".into()),
            "BUKO_IMAGE_API_KEY" => Some("sk-img-secret".into()),
            _ => None,
        })
        .expect("openai");
        assert_eq!(build_image_provider(&s).provider(), "openai");
        assert!(!format!("{s:?}").contains("sk-img-secret"));
        let bad =
            ImageSettings::from_lookup(|k| (k == "BUKO_IMAGE_PROVIDER").then(|| "dalle".into()));
        assert!(bad.is_err_and(|e| e.to_string().contains("BUKO_IMAGE_PROVIDER")));
        let bad =
            ImageSettings::from_lookup(|k| (k == "BUKO_IMAGE_TIMEOUT_SECS").then(|| "-1".into()));
        assert!(bad.is_err());
    }
}
