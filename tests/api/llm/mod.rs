//! LLM providers against in-process HTTP servers on 127.0.0.1 (never the internet).

mod anthropic;
mod budget;
mod caching;
mod canned;
mod estimate;
mod fake_server;
pub(crate) mod helpers;
mod length;
mod offline;
mod openai;
mod outage;
mod provider_faults;
mod whole_book;
