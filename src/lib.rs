pub mod llm;
pub mod secret;
