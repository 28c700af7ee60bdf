//! Shared helpers: start servers on port 0, build providers against them, drain a stream.

use std::net::TcpListener;
use std::time::Duration;

use buko::llm::anthropic::{AnthropicConfig, AnthropicProvider};
use buko::llm::http::Timeouts;
use buko::llm::{serve_fake_llm, FakeLlmOptions};
use buko::secret::Secret;
use buko_actors::{
    CallPurpose, CompletionRequest, LlmError, LlmEvent, LlmPort, Message, RequestContext, Role,
    StopReason, Usage,
};
use futures_util::StreamExt;

pub fn timeouts(stall_ms: u64) -> Timeouts {
    Timeouts {
        connect: Duration::from_secs(2),
        request: Duration::from_secs(5),
        stall: Duration::from_millis(stall_ms),
    }
}

/// A fast fake server (no pacing) with `tweak` applied to its options; returns its base URL.
pub async fn spawn_fake(tweak: impl FnOnce(&mut FakeLlmOptions)) -> String {
    let mut opts = FakeLlmOptions {
        tokens_per_sec: 0.0,
        ttft_ms: 0,
        words: 300,
        ..Default::default()
    };
    tweak(&mut opts);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let server = serve_fake_llm(opts, listener).await.expect("fake server");
    actix_web::rt::spawn(server);
    format!("http://127.0.0.1:{port}")
}

pub async fn script(base: &str, faults: serde_json::Value) {
    let mut r = awc::Client::new()
        .post(format!("{base}/_fake/script"))
        .send_json(&faults)
        .await
        .expect("script");
    assert!(
        r.status().is_success(),
        "script refused: {:?}",
        r.body().await
    );
}

pub async fn stats(base: &str) -> serde_json::Value {
    awc::Client::new()
        .get(format!("{base}/_fake/stats"))
        .send()
        .await
        .expect("stats")
        .json()
        .await
        .expect("json")
}

pub fn anthropic(base: &str, key: &str, thinking: Option<u32>, stall_ms: u64) -> AnthropicProvider {
    buko::llm::init_tls();
    AnthropicProvider::new(AnthropicConfig {
        base_url: base.to_string(),
        api_key: Secret::new(key),
        model: "claude-sonnet-4-5".into(),
        max_output_tokens: 8000,
        thinking_budget: thinking,
        timeouts: timeouts(stall_ms),
        prompt_cache: true,
        step_models: Default::default(),
    })
}

pub fn request(max_tokens: u32) -> CompletionRequest {
    CompletionRequest {
        purpose: CallPurpose::Chunk,
        system: "You write books.".into(),
        messages: vec![Message {
            role: Role::User,
            content: "Chapter: The Harbour\n- Clara finds the letter\n- the storm arrives".into(),
        }],
        max_tokens,
        temperature: Some(0.8),
        context: RequestContext::default(),
    }
}

/// Everything a stream yielded: the text, the `Finished` fields, the error, and items after the end.
#[derive(Debug)]
pub struct Outcome {
    pub text: String,
    pub deltas: usize,
    pub finished: Option<(StopReason, Usage, Option<String>)>,
    pub error: Option<LlmError>,
    pub after_end: usize,
    /// The last usage the provider reported mid-stream.
    pub reported: Option<Usage>,
}

pub async fn run(provider: &dyn LlmPort, req: CompletionRequest) -> Outcome {
    let mut s = provider.stream(req);
    let mut o = Outcome {
        text: String::new(),
        deltas: 0,
        finished: None,
        error: None,
        after_end: 0,
        reported: None,
    };
    while let Some(item) = s.next().await {
        if o.finished.is_some() || o.error.is_some() {
            o.after_end += 1;
            continue;
        }
        match item {
            Ok(LlmEvent::TextDelta(t)) => {
                o.text.push_str(&t);
                o.deltas += 1;
            }
            Ok(LlmEvent::Usage(u)) => o.reported = Some(u),
            Ok(LlmEvent::Finished {
                stop_reason,
                usage,
                request_id,
            }) => o.finished = Some((stop_reason, usage, request_id)),
            Err(e) => o.error = Some(e),
        }
    }
    o
}
