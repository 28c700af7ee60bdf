//! TLS for outgoing HTTPS (LLM providers): awc with rustls needs a process-wide crypto provider.

/// Installs the ring crypto provider once; later calls are no-ops.
pub fn init() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
