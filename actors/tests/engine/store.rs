//! In-memory BookStore with fault injection (panics, unavailability) and a full history of writes.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use buko_actors::*;
use chrono::Utc;
use futures_util::future::{FutureExt, LocalBoxFuture};

#[derive(Default, Clone)]
pub struct BookState {
    pub user_id: String,
    pub status: Option<BookStatus>,
    pub reason: Option<String>,
    pub statuses: Vec<(BookStatus, Option<String>)>,
    pub architecture: Architecture,
    pub chunks: BTreeMap<i64, (CommittedChunk, String)>,
    /// Seqs in the order they were inserted (a duplicate insert would show twice).
    pub commit_log: Vec<i64>,
    pub summaries: BTreeMap<usize, String>,
    pub events: Vec<BookEvent>,
    pub fence: Fence,
    pub plan_total: Option<u32>,
    pub control: Option<Control>,
    /// Usage of the book's recorded calls (as a database store sums them).
    pub spent: Usage,
    pub spent_usd: f64,
    pub budget_usd: Option<f64>,
    /// The author turned the continuity audit off.
    pub audit_off: bool,
    /// Audit findings per chapter, as last saved.
    pub findings: BTreeMap<usize, Vec<Finding>>,
}

impl BookState {
    /// Appends events with the next seqs, in the same step as the change they come with (as a
    /// database store's transaction does).
    fn append(&mut self, book_id: &str, events: Vec<NewEvent>) -> Vec<BookEvent> {
        let mut stored = Vec::new();
        for e in events {
            let event = BookEvent {
                book_id: book_id.to_string(),
                seq: self.events.last().map_or(0, |e| e.seq) + 1,
                kind: e.kind,
                data: e.data,
                at: Utc::now(),
            };
            self.events.push(event.clone());
            stored.push(event);
        }
        stored
    }
}

#[derive(Default)]
pub struct MemStore {
    pub books: Mutex<HashMap<String, BookState>>,
    pub calls: Mutex<Vec<CallRecord>>,
    /// `(book, seq)` whose next commit panics (once each).
    pub panic_on_commit: Mutex<HashSet<(String, i64)>>,
    /// The next N store calls answer `Unavailable`.
    pub unavailable: AtomicU32,
    /// Reads of one book's flag (`control`) and of many at once (`controls`).
    pub control_reads: AtomicU32,
    pub controls_reads: AtomicU32,
}

impl MemStore {
    pub fn add_book(&self, book_id: &str, architecture: Architecture) {
        let state = BookState {
            user_id: format!("user-of-{book_id}"),
            status: Some(BookStatus::Queued),
            architecture,
            ..BookState::default()
        };
        self.books
            .lock()
            .unwrap()
            .insert(book_id.to_string(), state);
    }

    /// Changes a book's state in place (what an author's edit in the database would do).
    pub fn with_state(&self, book_id: &str, f: impl FnOnce(&mut BookState)) {
        if let Some(b) = self.books.lock().unwrap().get_mut(book_id) {
            f(b);
        }
    }

    pub fn book(&self, book_id: &str) -> BookState {
        self.books
            .lock()
            .unwrap()
            .get(book_id)
            .cloned()
            .expect("book")
    }

    pub fn set_control(&self, book_id: &str, control: Control) {
        self.books
            .lock()
            .unwrap()
            .get_mut(book_id)
            .expect("book")
            .control = Some(control);
    }

    fn unavailable(&self) -> bool {
        self.unavailable
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }

    fn with<T: 'static>(
        &self,
        book_id: &str,
        fence: Option<Fence>,
        f: impl FnOnce(&mut BookState) -> T,
    ) -> LocalBoxFuture<'static, Result<T, StoreError>> {
        if self.unavailable() {
            return async { Err(StoreError::Unavailable("injected".into())) }.boxed_local();
        }
        let mut books = self.books.lock().unwrap();
        let r = match books.get_mut(book_id) {
            None => Err(StoreError::NotFound(book_id.to_string())),
            Some(b) if fence.is_some_and(|f| f.0 < b.fence.0) => {
                Err(StoreError::Fenced(book_id.to_string()))
            }
            Some(b) => Ok(f(b)),
        };
        async move { r }.boxed_local()
    }
}

pub struct SharedStore(pub Arc<MemStore>);

impl BookStore for SharedStore {
    fn load_book(
        &self,
        book_id: &str,
    ) -> LocalBoxFuture<'static, Result<BookSnapshot, StoreError>> {
        let id = book_id.to_string();
        self.0.with(book_id, None, move |b| BookSnapshot {
            book_id: id,
            user_id: b.user_id.clone(),
            status: b.status.unwrap_or(BookStatus::Queued),
            architecture: b.architecture.clone(),
            committed: b.chunks.values().map(|(c, _)| c.clone()).collect(),
            chapter_summaries: b.summaries.iter().map(|(k, v)| (*k, v.clone())).collect(),
            last_event_seq: b.events.last().map_or(0, |e| e.seq),
            spent: b.spent,
            spent_usd: b.spent_usd,
            budget_usd: b.budget_usd,
            audit: !b.audit_off,
        })
    }

    fn chunk_text(
        &self,
        book_id: &str,
        seq: i64,
    ) -> LocalBoxFuture<'static, Result<Option<String>, StoreError>> {
        self.0.with(book_id, None, move |b| {
            b.chunks.get(&seq).map(|(_, t)| t.clone())
        })
    }

    fn commit_chunk(
        &self,
        chunk: ChunkCommit,
        events: Vec<NewEvent>,
    ) -> LocalBoxFuture<'static, Result<(CommitOutcome, Vec<BookEvent>), StoreError>> {
        let key = (chunk.book_id.clone(), chunk.seq);
        if self.0.panic_on_commit.lock().unwrap().remove(&key) {
            panic!("injected crash while committing chunk {}", chunk.seq);
        }
        self.0
            .with(&chunk.book_id.clone(), Some(chunk.fence), move |b| {
                if b.chunks.contains_key(&chunk.seq) {
                    return (CommitOutcome::AlreadyPresent, Vec::new());
                }
                b.commit_log.push(chunk.seq);
                let meta = CommittedChunk {
                    seq: chunk.seq,
                    chapter_index: chunk.chapter_index,
                    part_index: chunk.part_index,
                    words: chunk.words,
                };
                b.chunks.insert(chunk.seq, (meta, chunk.text));
                (CommitOutcome::Inserted, b.append(&chunk.book_id, events))
            })
    }

    fn discard_chapter(
        &self,
        book_id: &str,
        chapter: usize,
        fence: Fence,
    ) -> LocalBoxFuture<'static, Result<(), StoreError>> {
        self.0.with(book_id, Some(fence), move |b| {
            b.chunks.retain(|_, (c, _)| c.chapter_index != chapter);
            b.summaries.retain(|k, _| *k < chapter);
            b.findings.remove(&chapter);
        })
    }

    fn save_chapter_summary(
        &self,
        book_id: &str,
        chapter: usize,
        summary: String,
        events: Vec<NewEvent>,
        fence: Fence,
    ) -> LocalBoxFuture<'static, Result<Vec<BookEvent>, StoreError>> {
        let id = book_id.to_string();
        self.0.with(book_id, Some(fence), move |b| {
            b.summaries.insert(chapter, summary);
            b.append(&id, events)
        })
    }

    fn merge_ledger(
        &self,
        book_id: &str,
        learned: Ledger,
        fence: Fence,
    ) -> LocalBoxFuture<'static, Result<Ledger, StoreError>> {
        self.0.with(book_id, Some(fence), move |b| {
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
        book_id: &str,
        chapter: usize,
        findings: Vec<Finding>,
        fence: Fence,
    ) -> LocalBoxFuture<'static, Result<(), StoreError>> {
        self.0.with(book_id, Some(fence), move |b| {
            b.findings.insert(chapter, findings);
        })
    }

    fn save_plan(
        &self,
        book_id: &str,
        total: u32,
        fence: Fence,
    ) -> LocalBoxFuture<'static, Result<(), StoreError>> {
        self.0
            .with(book_id, Some(fence), move |b| b.plan_total = Some(total))
    }

    fn set_status(
        &self,
        book_id: &str,
        status: BookStatus,
        reason: Option<String>,
        events: Vec<NewEvent>,
        fence: Fence,
    ) -> LocalBoxFuture<'static, Result<Vec<BookEvent>, StoreError>> {
        let id = book_id.to_string();
        self.0.with(book_id, Some(fence), move |b| {
            b.status = Some(status);
            b.reason = reason.clone();
            b.statuses.push((status, reason));
            b.append(&id, events)
        })
    }

    fn append_event(
        &self,
        book_id: &str,
        kind: &str,
        data: serde_json::Value,
        fence: Fence,
    ) -> LocalBoxFuture<'static, Result<BookEvent, StoreError>> {
        let (id, kind) = (book_id.to_string(), kind.to_string());
        self.0.with(book_id, Some(fence), move |b| {
            b.append(&id, vec![NewEvent { kind, data }]).remove(0)
        })
    }

    fn record_call(&self, call: CallRecord) -> LocalBoxFuture<'static, Result<(), StoreError>> {
        if let Some(id) = &call.book_id {
            let mut books = self.0.books.lock().unwrap();
            if let Some(state) = books.get_mut(id) {
                state.spent.add(call.usage);
                state.spent_usd += call.cost_usd;
            }
        }
        self.0.calls.lock().unwrap().push(call);
        async { Ok(()) }.boxed_local()
    }

    fn control(&self, book_id: &str) -> LocalBoxFuture<'static, Result<Control, StoreError>> {
        self.0.control_reads.fetch_add(1, Ordering::Relaxed);
        self.0
            .with(book_id, None, |b| b.control.unwrap_or(Control::Run))
    }

    fn controls(
        &self,
        book_ids: Vec<String>,
    ) -> LocalBoxFuture<'static, Result<Vec<(String, Control)>, StoreError>> {
        self.0.controls_reads.fetch_add(1, Ordering::Relaxed);
        if self.0.unavailable() {
            return async { Err(StoreError::Unavailable("injected".into())) }.boxed_local();
        }
        let books = self.0.books.lock().unwrap();
        let stopped = book_ids
            .into_iter()
            .filter_map(|id| {
                let control = books.get(&id)?.control?;
                (control != Control::Run).then_some((id, control))
            })
            .collect();
        async move { Ok(stopped) }.boxed_local()
    }
}
