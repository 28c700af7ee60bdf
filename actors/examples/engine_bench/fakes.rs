//! The benchmark's fakes: a paced scripted LLM (one word per token) and an in-memory store.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use buko_actors::*;
use chrono::Utc;
use futures_util::future::{ready, LocalBoxFuture};
use futures_util::stream::{self, LocalBoxStream, StreamExt};

// ----- scripted LLM: one word per token, 20 ms apart -------------------------------------------------

pub struct PacedLlm {
    pub tokens_per_chunk: usize,
    pub every: Duration,
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
        Price::flat(3.0, 15.0)
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
            usage: Usage::new(1_000, n as u64),
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
pub struct Book {
    pub architecture: Architecture,
    pub chunks: HashMap<i64, String>,
    pub summaries: Vec<(usize, String)>,
    pub events: i64,
    pub status: Option<BookStatus>,
}

impl Book {
    /// Gives `events` the next seqs, as a store's transaction does.
    fn stamp(&mut self, book_id: &str, events: Vec<NewEvent>) -> Vec<BookEvent> {
        events
            .into_iter()
            .map(|e| {
                self.events += 1;
                BookEvent {
                    book_id: book_id.to_string(),
                    seq: self.events,
                    kind: e.kind,
                    data: e.data,
                    at: Utc::now(),
                }
            })
            .collect()
    }
}

#[derive(Default)]
pub struct Store {
    pub books: Mutex<HashMap<String, Book>>,
    pub calls: AtomicU64,
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

pub struct Shared(pub Arc<Store>);

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
            spent: Usage::default(),
            spent_usd: 0.0,
            budget_usd: None,
            // The bench measures writing and streaming; the audit's calls would only add noise.
            audit: false,
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
        events: Vec<NewEvent>,
    ) -> LocalBoxFuture<'static, Result<(CommitOutcome, Vec<BookEvent>), StoreError>> {
        let id = c.book_id.clone();
        self.0
            .with(&id, move |b| match b.chunks.insert(c.seq, c.text) {
                None => (CommitOutcome::Inserted, b.stamp(&c.book_id, events)),
                Some(_) => (CommitOutcome::AlreadyPresent, Vec::new()),
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
        events: Vec<NewEvent>,
        _: Fence,
    ) -> LocalBoxFuture<'static, Result<Vec<BookEvent>, StoreError>> {
        let book_id = id.to_string();
        self.0.with(id, move |b| {
            b.summaries.push((ch, s));
            b.stamp(&book_id, events)
        })
    }
    fn merge_ledger(
        &self,
        id: &str,
        learned: Ledger,
        _: Fence,
    ) -> LocalBoxFuture<'static, Result<Ledger, StoreError>> {
        self.0.with(id, move |b| {
            let merged = b
                .architecture
                .bible
                .learned
                .merged(learned, &b.architecture);
            b.architecture.bible.learned = merged.clone();
            merged
        })
    }
    fn save_audit(
        &self,
        id: &str,
        _: usize,
        _: Vec<Finding>,
        _: Fence,
    ) -> LocalBoxFuture<'static, Result<(), StoreError>> {
        self.0.with(id, |_| ())
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
        events: Vec<NewEvent>,
        _: Fence,
    ) -> LocalBoxFuture<'static, Result<Vec<BookEvent>, StoreError>> {
        let book_id = id.to_string();
        self.0.with(id, move |b| {
            b.status = Some(s);
            b.stamp(&book_id, events)
        })
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
    fn controls(
        &self,
        _: Vec<String>,
    ) -> LocalBoxFuture<'static, Result<Vec<(String, Control)>, StoreError>> {
        Box::pin(ready(Ok(vec![])))
    }
}
