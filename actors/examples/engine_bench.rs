//! Engine benchmark: N books written at once by a scripted LLM that streams 50 tokens/s per stream,
//! into an in-memory store, with one counting subscriber per book. Prints wall time, process CPU,
//! peak RSS, events/s and deltas/s, and checks that no event or text was missed or reordered.
//!
//! `cargo run --release -p buko-actors --example engine_bench [books] [chapters] [tokens_per_chunk]`

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix::prelude::*;
use buko_actors::model::ChapterPlan;
use buko_actors::*;
use chrono::Utc;
use futures_util::future::{ready, LocalBoxFuture};
use futures_util::stream::{self, LocalBoxStream, StreamExt};

// ----- scripted LLM: one word per token, 20 ms apart -------------------------------------------------

struct PacedLlm {
    tokens_per_chunk: usize,
    every: Duration,
}

impl LlmPort for PacedLlm {
    fn provider(&self) -> &str {
        "bench"
    }
    fn model(&self) -> &str {
        "paced"
    }
    fn max_output_tokens(&self) -> u32 {
        8_000
    }
    fn price(&self) -> Price {
        Price {
            input_per_mtok: 3.0,
            output_per_mtok: 15.0,
        }
    }
    fn stream(
        &self,
        request: CompletionRequest,
    ) -> LocalBoxStream<'static, Result<LlmEvent, LlmError>> {
        let n = if request.purpose == CallPurpose::Chunk {
            self.tokens_per_chunk
        } else {
            1
        };
        let every = self.every;
        let done = Ok(LlmEvent::Finished {
            stop_reason: StopReason::EndTurn,
            usage: Usage {
                input_tokens: 1_000,
                output_tokens: n as u64,
            },
            request_id: None,
        });
        let ticks = stream::unfold(0usize, move |i| async move {
            if i == n {
                return None;
            }
            if request.purpose == CallPurpose::Chunk {
                tokio::time::sleep(every).await;
            }
            Some((Ok(LlmEvent::TextDelta(format!("w{i} "))), i + 1))
        });
        ticks.chain(stream::iter([done])).boxed_local()
    }
}

// ----- in-memory store ---------------------------------------------------------------------------------

#[derive(Default)]
struct Book {
    architecture: Architecture,
    chunks: HashMap<i64, String>,
    summaries: Vec<(usize, String)>,
    events: i64,
    status: Option<BookStatus>,
}

#[derive(Default)]
struct Store {
    books: Mutex<HashMap<String, Book>>,
    calls: AtomicU64,
}

impl Store {
    fn with<T: 'static>(
        &self,
        id: &str,
        f: impl FnOnce(&mut Book) -> T,
    ) -> LocalBoxFuture<'static, Result<T, StoreError>> {
        let mut books = self.books.lock().unwrap_or_else(|p| p.into_inner());
        let r = books
            .get_mut(id)
            .map(f)
            .ok_or_else(|| StoreError::NotFound(id.to_string()));
        Box::pin(ready(r))
    }
}

struct Shared(Arc<Store>);

impl BookStore for Shared {
    fn load_book(&self, id: &str) -> LocalBoxFuture<'static, Result<BookSnapshot, StoreError>> {
        let book_id = id.to_string();
        self.0.with(id, move |b| BookSnapshot {
            book_id: book_id.clone(),
            user_id: format!("u-{book_id}"),
            status: b.status.unwrap_or(BookStatus::Queued),
            architecture: b.architecture.clone(),
            committed: Vec::new(),
            chapter_summaries: b.summaries.clone(),
            last_event_seq: b.events,
        })
    }
    fn chunk_text(
        &self,
        id: &str,
        seq: i64,
    ) -> LocalBoxFuture<'static, Result<Option<String>, StoreError>> {
        self.0.with(id, move |b| b.chunks.get(&seq).cloned())
    }
    fn commit_chunk(
        &self,
        c: ChunkCommit,
    ) -> LocalBoxFuture<'static, Result<CommitOutcome, StoreError>> {
        let id = c.book_id.clone();
        self.0
            .with(&id, move |b| match b.chunks.insert(c.seq, c.text) {
                None => CommitOutcome::Inserted,
                Some(_) => CommitOutcome::AlreadyPresent,
            })
    }
    fn discard_chapter(
        &self,
        id: &str,
        _: usize,
        _: Fence,
    ) -> LocalBoxFuture<'static, Result<(), StoreError>> {
        self.0.with(id, |_| ())
    }
    fn save_chapter_summary(
        &self,
        id: &str,
        ch: usize,
        s: String,
        _: Fence,
    ) -> LocalBoxFuture<'static, Result<(), StoreError>> {
        self.0.with(id, move |b| b.summaries.push((ch, s)))
    }
    fn save_plan(
        &self,
        id: &str,
        _: u32,
        _: Fence,
    ) -> LocalBoxFuture<'static, Result<(), StoreError>> {
        self.0.with(id, |_| ())
    }
    fn set_status(
        &self,
        id: &str,
        s: BookStatus,
        _: Option<String>,
        _: Fence,
    ) -> LocalBoxFuture<'static, Result<(), StoreError>> {
        self.0.with(id, move |b| b.status = Some(s))
    }
    fn append_event(
        &self,
        id: &str,
        kind: &str,
        data: serde_json::Value,
        _: Fence,
    ) -> LocalBoxFuture<'static, Result<BookEvent, StoreError>> {
        let (book_id, kind) = (id.to_string(), kind.to_string());
        self.0.with(id, move |b| {
            b.events += 1;
            BookEvent {
                book_id,
                seq: b.events,
                kind,
                data,
                at: Utc::now(),
            }
        })
    }
    fn record_call(&self, _: CallRecord) -> LocalBoxFuture<'static, Result<(), StoreError>> {
        self.0.calls.fetch_add(1, Ordering::Relaxed);
        Box::pin(ready(Ok(())))
    }
    fn control(&self, _: &str) -> LocalBoxFuture<'static, Result<Control, StoreError>> {
        Box::pin(ready(Ok(Control::Run)))
    }
}

// ----- counting subscriber: checks order as it counts --------------------------------------------------

#[derive(Default, Debug)]
struct Tally {
    events: u64,
    deltas: u64,
    /// Chars received per chunk seq.
    chars: HashMap<i64, usize>,
    errors: Vec<String>,
    dropped: bool,
}

struct Counter {
    last_event: i64,
    tally: Arc<Mutex<Tally>>,
}

impl Actor for Counter {
    type Context = Context<Self>;
}

impl Handler<Deliver> for Counter {
    type Result = ();
    fn handle(&mut self, msg: Deliver, _: &mut Self::Context) {
        let mut t = self.tally.lock().unwrap_or_else(|p| p.into_inner());
        match msg {
            Deliver::Dropped { .. } => t.dropped = true,
            Deliver::Message(o) => match &o.message {
                ProgressMessage::Event { seq, .. } => {
                    if *seq != self.last_event + 1 {
                        t.errors
                            .push(format!("event {seq} after {}", self.last_event));
                    }
                    self.last_event = *seq;
                    t.events += 1;
                }
                ProgressMessage::Delta {
                    chunk_seq,
                    offset,
                    text,
                    ..
                } => {
                    let have = t.chars.entry(*chunk_seq).or_default();
                    if *offset != *have {
                        let e = format!("delta of chunk {chunk_seq} at {offset}, expected {have}");
                        *have = *offset;
                        t.errors.push(e);
                    }
                    *t.chars.entry(*chunk_seq).or_default() += text.chars().count();
                    t.deltas += 1;
                }
                _ => {}
            },
        }
    }
}

// ----- measurement -------------------------------------------------------------------------------------

/// utime + stime of this process in seconds (Linux clock ticks are 100 Hz).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

fn arg(i: usize, default: usize) -> usize {
    std::env::args()
        .nth(i)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let (books, chapters, tokens) = (arg(1, 500), arg(2, 3), arg(3, 200));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let result = System::new().block_on(run(books, chapters, tokens));
    let r = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("benchmark failed: {e}");
            std::process::exit(1);
        }
    };
    let cpu_pct = r.cpu / (r.wall * cores as f64) * 100.0;
    println!(
        "books {books} × chapters {chapters} × {tokens} tokens/chunk at 50 tokens/s per stream"
    );
    println!("machine: {cores} cores");
    println!(
        "wall            {:.2} s (ideal {:.2} s)",
        r.wall,
        (chapters * tokens) as f64 / 50.0
    );
    println!(
        "process CPU     {:.2} s = {cpu_pct:.1} % of the machine",
        r.cpu
    );
    println!("peak RSS        {:.1} MiB", peak_rss_mib());
    println!(
        "events          {} ({:.0}/s)",
        r.events,
        r.events as f64 / r.wall
    );
    println!(
        "token deltas in {} ({:.0}/s)",
        r.tokens,
        r.tokens as f64 / r.wall
    );
    println!(
        "deltas out      {} ({:.0}/s, coalesced)",
        r.deltas,
        r.deltas as f64 / r.wall
    );
    println!("LLM calls       {}", r.calls);
    println!("ordering        OK: no missed or reordered event, every streamed char accounted for");
}

struct Report {
    wall: f64,
    cpu: f64,
    events: u64,
    deltas: u64,
    tokens: u64,
    calls: u64,
}

async fn run(books: usize, chapters: usize, tokens: usize) -> Result<Report, String> {
    let store = Arc::new(Store::default());
    let llm = Arc::new(PacedLlm {
        tokens_per_chunk: tokens,
        every: Duration::from_millis(20),
    });
    let engine = Engine::start(
        llm,
        Arc::new(Shared(store.clone())),
        Arc::new(NoRemote),
        Arc::new(SystemClock),
        EngineConfig::default(),
    );
    let architecture = Architecture {
        title: "Bench".into(),
        chapters: (0..chapters)
            .map(|i| ChapterPlan {
                title: format!("C{i}"),
                target_words: 1_000,
                ..ChapterPlan::default()
            })
            .collect(),
        ..Architecture::default()
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<BookFinished>();
    struct Done(tokio::sync::mpsc::UnboundedSender<BookFinished>);
    impl Actor for Done {
        type Context = Context<Self>;
    }
    impl Handler<BookFinished> for Done {
        type Result = ();
        fn handle(&mut self, m: BookFinished, _: &mut Self::Context) {
            let _ = self.0.send(m);
        }
    }
    let done = Done(tx).start().recipient();
    let mut tallies = Vec::new();
    for i in 0..books {
        let id = format!("book-{i}");
        store.books.lock().map_err(|e| e.to_string())?.insert(
            id.clone(),
            Book {
                architecture: architecture.clone(),
                ..Book::default()
            },
        );
        let tally = Arc::new(Mutex::new(Tally::default()));
        let counter = Counter {
            last_event: 0,
            tally: tally.clone(),
        }
        .start();
        let sub = engine
            .broadcaster
            .send(Register {
                recipient: counter.recipient(),
            })
            .await
            .map_err(|e| e.to_string())?;
        engine
            .broadcaster
            .send(Subscribe {
                id: sub,
                topic: Topic::Book(id.clone()),
            })
            .await
            .map_err(|e| e.to_string())?;
        tallies.push((id, tally));
    }
    let (t0, cpu0) = (Instant::now(), cpu_seconds());
    for (id, _) in &tallies {
        let msg = StartBook {
            book_id: id.clone(),
            fence: Fence(0),
            regenerate_chapter: None,
            done: Some(done.clone()),
        };
        engine
            .supervisor
            .send(msg)
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
    }
    for _ in 0..books {
        let f = rx.recv().await.ok_or("done channel closed")?;
        if f.outcome != BookOutcome::Completed {
            return Err(format!("{} ended {:?}", f.book_id, f.outcome));
        }
    }
    let (wall, cpu) = (t0.elapsed().as_secs_f64(), cpu_seconds() - cpu0);
    tokio::time::sleep(Duration::from_millis(300)).await; // let the last deliveries land
    let mut report = Report {
        wall,
        cpu,
        events: 0,
        deltas: 0,
        tokens: (books * chapters * tokens) as u64,
        calls: store.calls.load(Ordering::Relaxed),
    };
    let stored = store.books.lock().map_err(|e| e.to_string())?;
    for (id, tally) in &tallies {
        let t = tally.lock().map_err(|e| e.to_string())?;
        let book = stored.get(id).ok_or("book vanished")?;
        if t.dropped || !t.errors.is_empty() || t.events != book.events as u64 {
            return Err(format!(
                "{id}: dropped={} events {}/{} errors {:?}",
                t.dropped, t.events, book.events, t.errors
            ));
        }
        for (seq, text) in &book.chunks {
            if t.chars.get(seq).copied().unwrap_or(0) != text.chars().count() {
                return Err(format!(
                    "{id}: chunk {seq} streamed text does not match the committed text"
                ));
            }
        }
        report.events += t.events;
        report.deltas += t.deltas;
    }
    Ok(report)
}
