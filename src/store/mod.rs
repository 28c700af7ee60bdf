//! The engine's `BookStore` port over the database. Each call runs its query on the blocking pool
//! (`db::run`) and holds a connection only for that query, never across the engine's LLM awaits.

use buko_actors::{
    BookEvent, BookSnapshot, BookStatus, BookStore, CallRecord, ChunkCommit, CommitOutcome,
    Control, Fence, Finding, Ledger, NewEvent, StoreError,
};
use futures_util::future::LocalBoxFuture;

use crate::db::repo::engine::{self as queries, QueryError};
use crate::db::repo::events::EventRow;
use crate::db::{self, DbError, DbPool};
use crate::metrics;
use buko_actors::CommittedEvents;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

#[derive(Clone)]
pub struct DbBookStore {
    pool: DbPool,
    /// The broadcaster, once the engine gave it: events are handed to it right after their commit.
    publisher: Arc<OnceLock<CommittedEvents>>,
}

impl DbBookStore {
    pub fn new(pool: DbPool) -> Self {
        DbBookStore {
            pool,
            publisher: Arc::default(),
        }
    }

    /// What turns committed rows into the engine's events, publishing them (on the committing thread).
    fn committed(&self) -> Committed {
        Committed(self.publisher.clone())
    }

    /// Runs `f` on the blocking pool, recording where the time goes (see `metrics::record_store_phase`).
    fn call<T, F>(&self, op: &'static str, f: F) -> LocalBoxFuture<'static, Result<T, StoreError>>
    where
        F: FnOnce(&mut db::DbConn) -> Result<T, QueryError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        Box::pin(async move {
            let asked = Instant::now();
            let result = actix_web::rt::task::spawn_blocking(move || {
                let started = Instant::now();
                metrics::record_store_phase(op, "queue", (started - asked).as_secs_f64());
                let mut conn = pool.get().map_err(DbError::from)?;
                let got = Instant::now();
                metrics::record_store_phase(op, "pool", (got - started).as_secs_f64());
                let r = f(&mut conn);
                metrics::record_store_phase(op, "query", got.elapsed().as_secs_f64());
                Ok(r)
            })
            .await
            .map_err(|_| DbError::Cancelled)
            .and_then(|r| r)
            .map_err(store_error)?;
            result.map_err(|e| match e {
                QueryError::NotFound(id) => StoreError::NotFound(id),
                QueryError::Fenced(id) => StoreError::Fenced(id),
                QueryError::BadArchitecture(m) => StoreError::Other(m),
                QueryError::Db(e) => store_error(e),
            })
        })
    }
}

/// Called on the blocking thread right after a transaction committed: its events as the engine sees
/// them, handed to the broadcaster at once when the engine gave one.
struct Committed(Arc<OnceLock<CommittedEvents>>);

impl Committed {
    fn events(&self, rows: Vec<EventRow>) -> Vec<BookEvent> {
        let events: Vec<BookEvent> = rows.iter().map(EventRow::to_book_event).collect();
        for e in &events {
            buko_actors::log_if_slow("committed", e.at, &e.book_id, e.seq);
            if let Some(publish) = self.0.get() {
                publish(e.clone());
            }
        }
        events
    }

    fn event(&self, row: EventRow) -> BookEvent {
        let mut events = self.events(vec![row]);
        events.pop().expect("one row, one event")
    }
}

/// Busy, locked or unreachable databases are temporary (the engine retries); the rest is not.
fn store_error(e: DbError) -> StoreError {
    if e.is_transient() {
        StoreError::Unavailable(e.to_string())
    } else {
        StoreError::Other(e.to_string())
    }
}

impl BookStore for DbBookStore {
    fn publish_commits_to(&self, publish: CommittedEvents) -> bool {
        // Once per store: a second engine over the same store keeps publishing the events it gets.
        self.publisher.set(publish).is_ok()
    }

    fn load_book(
        &self,
        book_id: &str,
    ) -> LocalBoxFuture<'static, Result<BookSnapshot, StoreError>> {
        let id = book_id.to_string();
        self.call("load_book", move |c| queries::load_book(c, &id))
    }

    fn chunk_text(
        &self,
        book_id: &str,
        seq: i64,
    ) -> LocalBoxFuture<'static, Result<Option<String>, StoreError>> {
        let id = book_id.to_string();
        self.call("chunk_text", move |c| queries::chunk_text(c, &id, seq))
    }

    fn commit_chunk(
        &self,
        chunk: ChunkCommit,
        events: Vec<NewEvent>,
    ) -> LocalBoxFuture<'static, Result<(CommitOutcome, Vec<BookEvent>), StoreError>> {
        let committed = self.committed();
        self.call("commit_chunk", move |c| {
            queries::commit_chunk(c, &chunk, &events).map(|(o, rows)| (o, committed.events(rows)))
        })
    }

    fn discard_chapter(
        &self,
        book_id: &str,
        chapter_index: usize,
        fence: Fence,
    ) -> LocalBoxFuture<'static, Result<(), StoreError>> {
        let id = book_id.to_string();
        self.call("discard_chapter", move |c| {
            queries::discard_chapter(c, &id, chapter_index, fence)
        })
    }

    fn save_chapter_summary(
        &self,
        book_id: &str,
        chapter_index: usize,
        summary: String,
        events: Vec<NewEvent>,
        fence: Fence,
    ) -> LocalBoxFuture<'static, Result<Vec<BookEvent>, StoreError>> {
        let id = book_id.to_string();
        let committed = self.committed();
        self.call("save_chapter_summary", move |c| {
            queries::save_chapter_summary(c, &id, chapter_index, &summary, &events, fence)
                .map(|rows| committed.events(rows))
        })
    }

    fn merge_ledger(
        &self,
        book_id: &str,
        learned: Ledger,
        fence: Fence,
    ) -> LocalBoxFuture<'static, Result<Ledger, StoreError>> {
        let id = book_id.to_string();
        self.call("merge_ledger", move |c| {
            crate::db::repo::memory::merge_ledger(c, &id, learned, fence)
        })
    }

    fn save_audit(
        &self,
        book_id: &str,
        chapter_index: usize,
        findings: Vec<Finding>,
        fence: Fence,
    ) -> LocalBoxFuture<'static, Result<(), StoreError>> {
        let id = book_id.to_string();
        self.call("save_audit", move |c| {
            crate::db::repo::memory::save_findings(c, &id, chapter_index, &findings, fence)
        })
    }

    fn save_plan(
        &self,
        book_id: &str,
        chunks_total: u32,
        fence: Fence,
    ) -> LocalBoxFuture<'static, Result<(), StoreError>> {
        let id = book_id.to_string();
        self.call("save_plan", move |c| {
            queries::save_plan(c, &id, chunks_total, fence)
        })
    }

    fn set_status(
        &self,
        book_id: &str,
        status: BookStatus,
        reason: Option<String>,
        events: Vec<NewEvent>,
        fence: Fence,
    ) -> LocalBoxFuture<'static, Result<Vec<BookEvent>, StoreError>> {
        let (id, committed) = (book_id.to_string(), self.committed());
        self.call("set_status", move |c| {
            queries::set_status(c, &id, status, reason.as_deref(), &events, fence)
                .map(|rows| committed.events(rows))
        })
    }

    fn append_event(
        &self,
        book_id: &str,
        kind: &str,
        data: serde_json::Value,
        fence: Fence,
    ) -> LocalBoxFuture<'static, Result<BookEvent, StoreError>> {
        let (id, kind, committed) = (book_id.to_string(), kind.to_string(), self.committed());
        self.call("append_event", move |c| {
            queries::append_event(c, &id, &kind, &data, fence).map(|row| committed.event(row))
        })
    }

    fn record_call(&self, call: CallRecord) -> LocalBoxFuture<'static, Result<(), StoreError>> {
        crate::metrics::record_llm_call(&call);
        self.call("record_call", move |c| queries::record_call(c, &call))
    }

    fn control(&self, book_id: &str) -> LocalBoxFuture<'static, Result<Control, StoreError>> {
        let id = book_id.to_string();
        self.call("control", move |c| queries::control(c, &id))
    }

    fn controls(
        &self,
        book_ids: Vec<String>,
    ) -> LocalBoxFuture<'static, Result<Vec<(String, Control)>, StoreError>> {
        self.call("controls", move |c| queries::controls(c, &book_ids))
    }
}
