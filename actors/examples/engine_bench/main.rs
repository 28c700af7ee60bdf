//! Engine benchmark: N books written at once by a scripted LLM that streams 50 tokens/s per stream,
//! into an in-memory store, with one counting subscriber per book. Prints wall time, process CPU,
//! peak RSS, events/s and deltas/s, and checks that no event or text was missed or reordered.
//!
//! `cargo run --release -p buko-actors --example engine_bench [books] [chapters] [tokens_per_chunk]`

mod counter;
mod fakes;

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix::prelude::*;
use buko_actors::model::ChapterPlan;
use buko_actors::*;

use counter::{Counter, Tally};
use fakes::{Book, PacedLlm, Shared, Store};

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
