//! placeholder
pub struct FakeLlmOptions;
pub fn serve_fake_llm() {}
