//! Image providers behind one port, like the LLM's: the OpenAI-compatible `images/generations` API and
//! the offline generator (the default: generative art from the book, no network). A provider returns
//! the image *as received*: the caller decodes it as untrusted input (`buko_export::cover::decode`) and
//! stores only its own re-encoding. Failures are the LLM's two classes (`LlmError::Temporary` /
//! `Permanent`, classified by `llm::errors`), so the cover job retries exactly as the engine does.

pub mod offline;
pub mod openai;
pub mod settings;

use buko_actors::LlmError;
use futures_util::future::LocalBoxFuture;

pub use settings::{build_image_provider, ImageProviderKind, ImageSettings, ImageSettingsError};

/// One picture to make.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageRequest {
    pub prompt: String,
    /// Deterministic seed for generators that take one (the book id and the candidate number).
    pub seed: String,
    /// The book's genre and tone (the offline generator picks its palette from them).
    pub genre: String,
    pub tone: String,
}

pub trait ImagePort: Send + Sync {
    /// `openai`, `offline`: recorded in the usage ledger.
    fn provider(&self) -> &str;
    fn model(&self) -> &str;
    /// USD per generated image (0 for the offline generator).
    fn price_per_image(&self) -> f64;
    /// The image's bytes (PNG, JPEG or WebP), unverified.
    fn generate(&self, request: ImageRequest)
        -> LocalBoxFuture<'static, Result<Vec<u8>, LlmError>>;
}
