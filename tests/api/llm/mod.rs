//! LLM providers against in-process HTTP servers on 127.0.0.1 (never the internet).

mod anthropic;
mod canned;
mod fake_server;
pub mod helpers;
mod offline;
mod openai;
mod whole_book;
