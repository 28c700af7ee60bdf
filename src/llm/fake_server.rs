//! `buko fake-llm`: a local server speaking the Anthropic Messages streaming protocol (`POST
//! /v1/messages`) for tests, load and chaos runs. It checks `x-api-key` and `anthropic-version`, writes
//! text derived from the request (the offline writer's generator) at an adjustable speed and time to first
//! token, and injects faults: queued per request with `POST /_fake/script` (a JSON fault or list of them,
//! see `Fault`), or drawn at the configured rates. `POST /_fake/outage {"secs", "fault"?}` answers every
//! request with one fault (default `overloaded`) for a while, as a provider outage does.
//! `GET /_fake/stats` counts requests by outcome, bytes streamed and answers still streaming, and lists
//! when requests came (ms since the server started, the last 100,000).
//! `GET /_fake/requests` returns the last request bodies. Blocks marked `cache_control` are cached as
//! the API caches them (`fake_cache`), and the usage reports cache writes and reads apart.

use std::collections::{BTreeMap, VecDeque};
use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{dev::Server, http::StatusCode, web, App, HttpRequest, HttpResponse, HttpServer};
use bytes::Bytes;
use futures_util::stream;
use serde_json::{json, Value};

use super::fake_cache::PromptCache;
use super::fake_faults::{error_answer, Fault};
use super::fake_script::{stream_steps, Ask, Pace, Step};
use super::offline_text::Rng;

/// Options of the fake server (`buko fake-llm --port P ...`).
#[derive(Clone, Debug, clap::Args)]
pub struct FakeLlmOptions {
    /// Output speed in tokens per second (0 = as fast as possible).
    #[arg(long, default_value_t = 400.0)]
    pub tokens_per_sec: f64,
    /// Delay before the first text token, in milliseconds.
    #[arg(long, default_value_t = 200)]
    pub ttft_ms: u64,
    /// Words in an answer (before `max_tokens` cuts it).
    #[arg(long, default_value_t = 600)]
    pub words: usize,
    /// Write this fraction of the words a request asks for ("about N words", "about N more words")
    /// instead of `--words`: 0.6 is a model that writes short, 1.4 one that writes long.
    #[arg(long)]
    pub length_ratio: Option<f64>,
    /// `retry-after` seconds sent with injected 429s.
    #[arg(long, default_value_t = 1)]
    pub retry_after_secs: u64,
    /// Probability (0..1) that a request gets a 429 rate_limit_error.
    #[arg(long, default_value_t = 0.0)]
    pub fault_rate_429: f64,
    /// Probability of a 529 overloaded_error.
    #[arg(long, default_value_t = 0.0)]
    pub fault_rate_529: f64,
    /// Probability of a 500 api_error.
    #[arg(long, default_value_t = 0.0)]
    pub fault_rate_500: f64,
    /// Probability of a connection reset mid-stream.
    #[arg(long, default_value_t = 0.0)]
    pub fault_rate_reset: f64,
    /// Probability of an `error` event (overloaded_error) mid-stream.
    #[arg(long, default_value_t = 0.0)]
    pub fault_rate_error_event: f64,
    /// Probability of a malformed SSE event mid-stream.
    #[arg(long, default_value_t = 0.0)]
    pub fault_rate_malformed: f64,
    /// Probability that the stream stalls (stops sending) mid-way.
    #[arg(long, default_value_t = 0.0)]
    pub fault_rate_stall: f64,
    /// Probability of an early `max_tokens` stop.
    #[arg(long, default_value_t = 0.0)]
    pub fault_rate_max_tokens: f64,
    /// Seed of the fault draws (runs are reproducible).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Worker threads.
    #[arg(long, default_value_t = 1)]
    pub workers: usize,
}

impl Default for FakeLlmOptions {
    fn default() -> Self {
        FakeLlmOptions {
            tokens_per_sec: 400.0,
            ttft_ms: 200,
            words: 600,
            length_ratio: None,
            retry_after_secs: 1,
            fault_rate_429: 0.0,
            fault_rate_529: 0.0,
            fault_rate_500: 0.0,
            fault_rate_reset: 0.0,
            fault_rate_error_event: 0.0,
            fault_rate_malformed: 0.0,
            fault_rate_stall: 0.0,
            fault_rate_max_tokens: 0.0,
            seed: 1,
            workers: 1,
        }
    }
}

struct FakeState {
    opts: FakeLlmOptions,
    script: Mutex<VecDeque<Fault>>,
    rng: Mutex<Rng>,
    stats: Mutex<BTreeMap<String, u64>>,
    started: Instant,
    /// Arrival times of the last requests, ms since `started`.
    arrivals: Mutex<VecDeque<u64>>,
    /// Every request fails with this fault until then.
    outage: Mutex<Option<(Instant, Fault)>>,
    /// Bytes of streamed answers written so far, and answers still streaming: a test counts what
    /// was sent after it asked the app to stop (a client that dropped the request stops the body).
    bytes_sent: AtomicU64,
    open_streams: Arc<AtomicU64>,
    /// The last [`RECENT_REQUESTS`] request bodies, newest last (`GET /_fake/requests`): tests check
    /// what reached the provider, e.g. an author's instruction in a regenerate prompt.
    recent: Mutex<VecDeque<Value>>,
    /// Prompt caching for requests with `cache_control` blocks.
    cache: PromptCache,
}

/// Held by a streaming body; dropping the body (finished, or the client went away) closes it.
struct OpenStream(Arc<AtomicU64>);

impl Drop for OpenStream {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

const ARRIVALS_KEPT: usize = 100_000;
const RECENT_REQUESTS: usize = 64;

impl FakeState {
    fn count(&self, outcome: &str) {
        if let Ok(mut a) = self.arrivals.lock() {
            if a.len() >= ARRIVALS_KEPT {
                a.pop_front();
            }
            a.push_back(u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX));
        }
        if let Ok(mut s) = self.stats.lock() {
            *s.entry("requests".into()).or_default() += 1;
            *s.entry(outcome.to_string()).or_default() += 1;
        }
    }

    fn next_fault(&self) -> Option<Fault> {
        if let Some((until, fault)) = self.outage.lock().ok().and_then(|o| o.clone()) {
            if Instant::now() < until {
                return Some(fault);
            }
        }
        if let Some(f) = self.script.lock().ok().and_then(|mut q| q.pop_front()) {
            return Some(f);
        }
        let o = &self.opts;
        let draw = self
            .rng
            .lock()
            .map(|mut r| (r.next_u64() >> 11) as f64 / (1u64 << 53) as f64)
            .unwrap_or(1.0);
        let table = [
            (
                o.fault_rate_429,
                Fault::RateLimit {
                    retry_after_secs: None,
                    retry_after_ms: None,
                },
            ),
            (o.fault_rate_529, Fault::Overloaded),
            (o.fault_rate_500, Fault::ServerError),
            (o.fault_rate_reset, Fault::Reset),
            (
                o.fault_rate_error_event,
                Fault::ErrorEvent { error_type: None },
            ),
            (o.fault_rate_malformed, Fault::Malformed),
            (o.fault_rate_stall, Fault::Stall),
            (o.fault_rate_max_tokens, Fault::MaxTokens),
        ];
        let mut acc = 0.0;
        for (rate, fault) in table {
            acc += rate.max(0.0);
            if draw < acc {
                return Some(fault);
            }
        }
        None
    }
}

fn json_error(status: u16, error_type: &str, message: &str) -> HttpResponse {
    HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST))
        .json(json!({"type": "error", "error": {"type": error_type, "message": message}}))
}

async fn messages(req: HttpRequest, body: web::Bytes, state: web::Data<FakeState>) -> HttpResponse {
    let header = |n: &str| {
        req.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    if header("x-api-key").is_empty() {
        state.count("unauthorized");
        return json_error(401, "authentication_error", "x-api-key header is required");
    }
    if header("anthropic-version").is_empty() {
        state.count("bad_request");
        return json_error(
            400,
            "invalid_request_error",
            "anthropic-version header is required",
        );
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        state.count("bad_request");
        return json_error(400, "invalid_request_error", "body is not JSON");
    };
    if body
        .get("messages")
        .and_then(Value::as_array)
        .is_none_or(|m| m.is_empty())
    {
        state.count("bad_request");
        return json_error(
            400,
            "invalid_request_error",
            "messages: at least one message is required",
        );
    }
    if let Ok(mut recent) = state.recent.lock() {
        if recent.len() == RECENT_REQUESTS {
            recent.pop_front();
        }
        recent.push_back(body.clone());
    }
    let fault = state.next_fault();
    state.count(fault.as_ref().map_or("ok", Fault::label));
    if let Some(answer) = fault
        .as_ref()
        .and_then(|f| error_answer(f, state.opts.retry_after_secs))
    {
        let mut r = HttpResponse::build(
            StatusCode::from_u16(answer.status).unwrap_or(StatusCode::BAD_REQUEST),
        );
        r.insert_header(("request-id", "req_fake_error"));
        for (k, v) in answer.headers {
            r.insert_header((k, v));
        }
        return r.json(answer.body);
    }
    let pace = Pace {
        tokens_per_sec: state.opts.tokens_per_sec,
        ttft: Duration::from_millis(state.opts.ttft_ms),
        words: state.opts.words,
        length_ratio: state
            .opts
            .length_ratio
            .filter(|r| r.is_finite() && *r > 0.0),
    };
    let mut ask = Ask::from_body(&body);
    ask.cache = state.cache.apply(&ask.model, &body);
    ask.input_tokens = ask
        .input_tokens
        .saturating_sub(ask.cache.creation + ask.cache.read);
    let steps: VecDeque<Step> = stream_steps(&ask, fault.as_ref(), pace).into();
    state.open_streams.fetch_add(1, Ordering::SeqCst);
    let open = OpenStream(state.open_streams.clone());
    let counter = state.clone();
    let body = stream::unfold((steps, open), move |(mut steps, open)| {
        let counter = counter.clone();
        async move {
            loop {
                match steps.pop_front()? {
                    Step::Send(b) => {
                        counter
                            .bytes_sent
                            .fetch_add(b.len() as u64, Ordering::SeqCst);
                        return Some((Ok::<Bytes, actix_web::Error>(b), (steps, open)));
                    }
                    Step::Sleep(d) => {
                        if !d.is_zero() {
                            tokio::time::sleep(d).await;
                        }
                    }
                    Step::Yield => tokio::task::yield_now().await,
                    Step::Reset => {
                        return Some((
                            Err(actix_web::error::ErrorInternalServerError(
                                "injected connection reset",
                            )),
                            (steps, open),
                        ))
                    }
                    Step::Hang => std::future::pending::<()>().await,
                }
            }
        }
    });
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("cache-control", "no-cache"))
        .insert_header(("request-id", "req_fake_stream"))
        .insert_header(("anthropic-ratelimit-requests-remaining", "999"))
        .insert_header(("anthropic-ratelimit-output-tokens-remaining", "80000"))
        .streaming(body)
}

async fn script(body: web::Json<Value>, state: web::Data<FakeState>) -> HttpResponse {
    let faults: Result<Vec<Fault>, _> = match body.into_inner() {
        Value::Array(items) => items.into_iter().map(serde_json::from_value).collect(),
        one => serde_json::from_value(one).map(|f| vec![f]),
    };
    match faults {
        Ok(faults) => {
            let n = faults.len();
            if let Ok(mut q) = state.script.lock() {
                q.extend(faults);
            }
            HttpResponse::Ok().json(json!({"queued": n}))
        }
        Err(e) => json_error(400, "invalid_request_error", &e.to_string()),
    }
}

async fn outage(body: web::Json<Value>, state: web::Data<FakeState>) -> HttpResponse {
    let secs = body.get("secs").and_then(Value::as_f64).unwrap_or(0.0);
    let fault = match body.get("fault") {
        Some(f) => match serde_json::from_value::<Fault>(f.clone()) {
            Ok(f) => f,
            Err(e) => return json_error(400, "invalid_request_error", &e.to_string()),
        },
        None => Fault::Overloaded,
    };
    if !(secs.is_finite() && secs >= 0.0) {
        return json_error(400, "invalid_request_error", "secs must be a number ≥ 0");
    }
    if let Ok(mut o) = state.outage.lock() {
        *o = Some((Instant::now() + Duration::from_secs_f64(secs), fault));
    }
    HttpResponse::Ok().json(json!({"outage_secs": secs}))
}

async fn stats(state: web::Data<FakeState>) -> HttpResponse {
    let stats = state.stats.lock().map(|s| s.clone()).unwrap_or_default();
    let queued = state.script.lock().map(|q| q.len()).unwrap_or(0);
    let arrivals: Vec<u64> = state
        .arrivals
        .lock()
        .map(|a| a.iter().copied().collect())
        .unwrap_or_default();
    let now_ms = u64::try_from(state.started.elapsed().as_millis()).unwrap_or(u64::MAX);
    HttpResponse::Ok().json(json!({
        "requests": stats.get("requests").copied().unwrap_or(0),
        "outcomes": stats, "queued": queued, "arrivals_ms": arrivals, "now_ms": now_ms,
        "bytes_sent": state.bytes_sent.load(Ordering::SeqCst),
        "open_streams": state.open_streams.load(Ordering::SeqCst)}))
}

async fn requests(state: web::Data<FakeState>) -> HttpResponse {
    let recent: Vec<Value> = state
        .recent
        .lock()
        .map(|r| r.iter().cloned().collect())
        .unwrap_or_default();
    HttpResponse::Ok().json(recent)
}

/// Starts the fake server on `listener` (bind port 0 in tests). Run or spawn the returned `Server`.
pub async fn serve_fake_llm(
    opts: FakeLlmOptions,
    listener: TcpListener,
) -> std::io::Result<Server> {
    let workers = opts.workers.max(1);
    let state = web::Data::new(FakeState {
        rng: Mutex::new(Rng::new(opts.seed)),
        opts,
        script: Mutex::new(VecDeque::new()),
        stats: Mutex::new(BTreeMap::new()),
        started: Instant::now(),
        arrivals: Mutex::new(VecDeque::new()),
        outage: Mutex::new(None),
        bytes_sent: AtomicU64::new(0),
        open_streams: Arc::new(AtomicU64::new(0)),
        recent: Mutex::new(VecDeque::new()),
        cache: PromptCache::default(),
    });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(web::PayloadConfig::new(16 * 1024 * 1024))
            .app_data(web::JsonConfig::default().limit(1024 * 1024))
            .route("/v1/messages", web::post().to(messages))
            .route("/_fake/script", web::post().to(script))
            .route("/_fake/outage", web::post().to(outage))
            .route("/_fake/stats", web::get().to(stats))
            .route("/_fake/requests", web::get().to(requests))
    })
    .workers(workers)
    .disable_signals()
    // A stalled answer never ends on its own; do not let it hold up shutdown.
    .shutdown_timeout(1)
    .listen(listener)?
    .run();
    Ok(server)
}
