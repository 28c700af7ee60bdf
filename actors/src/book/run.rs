//! One run of a book, start to end: load, (discard a chapter to regenerate), plan, write every planned
//! chunk that is not committed yet in order, remember each finished chapter (notes, story ledger,
//! continuity audit, rolling summary: `memory`), complete.
//! The committed chunks in the store are the truth, so a run after any crash simply continues.

use std::collections::{BTreeMap, HashSet};

use serde_json::json;

use super::ctx::BookCtx;
use super::memory::{chapter_completed, remember_chapter, FinishedChapter};
use super::writer::ChunkWriter;
use crate::broadcast::SetBookOwner;
use crate::model::{BookStatus, Regenerate};
use crate::outcome::{BookOutcome, Halt};
use crate::plan::plan_chunks;
use crate::ports::{BookSnapshot, NewEvent, StoreError};
use crate::retry::store_call;

/// The run's outcome; `None` when it must be restarted later (the store stayed unavailable).
pub(crate) async fn run_book(
    mut book: BookCtx,
    regenerate_chapter: Option<Regenerate>,
) -> Option<BookOutcome> {
    match write_book(&mut book, regenerate_chapter).await {
        Ok(()) => Some(BookOutcome::Completed),
        Err(Halt::StoreDown(reason)) => {
            log::warn!("book {}: {reason}; the run will be restarted", book.book_id);
            None
        }
        Err(halt) => Some(book.finalize(halt).await),
    }
}

async fn load(book: &BookCtx) -> Result<BookSnapshot, Halt> {
    let store = &book.deps.store;
    store_call(&book.deps.config.store_retry, || {
        store.load_book(&book.book_id)
    })
    .await
    .map_err(|e| match e {
        StoreError::NotFound(id) => Halt::Failed(format!("book {id} not found")),
        e => Halt::from_store("could not load the book", e),
    })
}

async fn write_book(
    book: &mut BookCtx,
    regenerate_chapter: Option<Regenerate>,
) -> Result<(), Halt> {
    let deps = book.deps.clone();
    let retry = &deps.config.store_retry;
    let mut snapshot = load(book).await?;
    // Totals across runs: what earlier runs spent, plus this run's calls as they are made.
    book.usage = snapshot.spent;
    book.cost_usd = snapshot.spent_usd;
    book.budget_usd = snapshot.budget_usd;
    deps.broadcaster.do_send(SetBookOwner {
        book_id: book.book_id.clone(),
        user_id: Some(snapshot.user_id.clone()),
    });
    book.check_control().await?;
    if let Some(regen) = &regenerate_chapter {
        let count = snapshot.architecture.chapters.len();
        if regen.chapter >= count {
            return Err(Halt::Failed(format!(
                "the book has no chapter {}",
                regen.chapter + 1
            )));
        }
        // Refreshing the following chapters discards them too: they are written again after it.
        let last = if regen.refresh_following {
            count - 1
        } else {
            regen.chapter
        };
        for chapter in regen.chapter..=last {
            store_call(retry, || {
                deps.store
                    .discard_chapter(&book.book_id, chapter, book.fence)
            })
            .await
            .map_err(|e| Halt::from_store("could not discard the chapter", e))?;
        }
        snapshot = load(book).await?;
    }
    let instruction = regenerate_chapter.and_then(|r| Some((r.chapter, r.instruction?)));
    let mut architecture = snapshot.architecture;
    let audit = snapshot.audit;
    let plan = plan_chunks(&architecture, deps.llm.max_output_tokens(), &deps.config);
    let total = u32::try_from(plan.len()).unwrap_or(u32::MAX);
    store_call(retry, || {
        deps.store.save_plan(&book.book_id, total, book.fence)
    })
    .await
    .map_err(|e| Halt::from_store("could not save the plan", e))?;
    if snapshot.status == BookStatus::Paused {
        // A run scheduled again after waiting for the provider: it says `generating` again once a
        // call goes through, not before (no paused → generating → paused flapping per cool-down).
        book.paused_for_provider = true;
    } else {
        book.set_status(BookStatus::Generating, None).await?;
    }

    let committed: HashSet<i64> = snapshot.committed.iter().map(|c| c.seq).collect();
    let mut summaries: BTreeMap<usize, String> = snapshot.chapter_summaries.into_iter().collect();
    let last_chapter = architecture.chapters.len().saturating_sub(1);
    for chapter in plan.chunk_by(|a, b| a.chapter_index == b.chapter_index) {
        let chapter_index = chapter[0].chapter_index;
        for chunk in chapter {
            if committed.contains(&chunk.seq) {
                continue;
            }
            book.check_control().await?;
            let rolling = summaries
                .range(..chapter_index)
                .next_back()
                .map(|(_, s)| s.as_str());
            let writer = ChunkWriter {
                book: &mut *book,
                architecture: &architecture,
                chunk,
                rolling_summary: rolling,
                instruction: instruction
                    .as_ref()
                    .filter(|(c, _)| *c == chapter_index)
                    .map(|(_, i)| i.as_str()),
            };
            writer.write().await?;
        }
        // A chapter is done when its summary is saved (with its `chapter_completed`); the last
        // chapter needs no summary (nothing is written after it): it is audited, then completes with
        // the book.
        if summaries.contains_key(&chapter_index) {
            continue;
        }
        let finished = FinishedChapter {
            parts: chapter,
            is_last: chapter_index >= last_chapter,
            audit,
        };
        if let Some(summary) =
            remember_chapter(book, &mut architecture, finished, &summaries).await?
        {
            summaries.insert(chapter_index, summary);
        }
    }

    // The last `chapter_completed`, the status and `book_completed` in one transaction: a crash
    // before it commits writes them on the next run, once.
    let last = NewEvent::new(
        "chapter_completed",
        chapter_completed(&architecture, last_chapter),
    );
    let completed = NewEvent::new(
        "book_completed",
        json!({ "chunks": plan.len(), "usage": book.usage_json() }),
    );
    book.set_status_with(BookStatus::Completed, None, vec![last], vec![completed])
        .await
}
