//! LLM providers behind the engine's `LlmPort`: Anthropic Messages (streaming SSE), OpenAI-compatible
//! chat completions, and the offline demo writer; plus the settings that pick one, prices, and a fake
//! Anthropic server for tests and load/chaos runs. Nothing here touches the database: the engine records
//! each call through its `BookStore`.

pub mod anthropic;
pub mod anthropic_stream;
pub mod errors;
pub mod fake_cache;
pub mod fake_faults;
pub mod fake_script;
pub mod fake_server;
pub mod http;
pub mod model_id;
pub mod offline;
pub mod offline_memory;
pub mod offline_text;
pub mod openai;
pub mod pricing;
pub mod settings;
pub mod sse;
pub mod step_models;

pub use fake_faults::Fault;
pub use fake_server::{serve_fake_llm, FakeLlmOptions};
pub use pricing::estimate_cost;
pub use settings::{build_provider, LlmSettings, ProviderKind, SettingsError};

/// Installs rustls' ring crypto provider for awc. Idempotent: call it at start (and it is called again
/// before every client is built); a second installation attempt is a no-op.
pub fn init_tls() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Err means a provider is already installed (by us or the host); either way TLS is ready.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
