//! ChunkWriter: writes one planned chunk. Builds the bounded prompt (with the tail of the previous
//! chunk read back from the store), streams it through the retry policy while forwarding text to the
//! broadcaster, brings it to its word budget (`length`), commits it idempotently with its
//! `chunk_completed`, and only then reports it written. It never decides the
//! book's fate beyond turning a final call error into a pause (temporary) or a failure (permanent).

use std::time::Duration;

use futures_util::future::LocalBoxFuture;
use serde_json::json;

use super::ctx::BookCtx;
use crate::broadcast::{ChunkStream, StreamPiece};
use crate::caller::{call_with_retry, CallError, CallHooks};
use crate::model::Architecture;
use crate::outcome::Halt;
use crate::plan::PlannedChunk;
use crate::ports::{ChunkCommit, CommitOutcome, NewEvent};
use crate::prompt::{chunk_request, tail, with_instruction};
use crate::retry::store_call;

pub(crate) struct ChunkWriter<'a> {
    pub book: &'a mut BookCtx,
    pub architecture: &'a Architecture,
    pub chunk: &'a PlannedChunk,
    pub rolling_summary: Option<&'a str>,
    /// The author's instruction when this chunk's chapter is being regenerated with one.
    pub instruction: Option<&'a str>,
}

/// Announces every attempt: a durable `chunk_started`, and a fresh snapshot for watchers.
struct WriterHooks<'a, 'b> {
    book: &'b mut BookCtx,
    chunk: &'a PlannedChunk,
}

impl CallHooks for WriterHooks<'_, '_> {
    fn breaker_open(&mut self, retry_in: Duration) -> LocalBoxFuture<'_, Result<bool, Halt>> {
        self.book.breaker_open(retry_in)
    }

    fn attempt_start(&mut self, attempt: u32) -> LocalBoxFuture<'_, Result<(), Halt>> {
        Box::pin(async move {
            self.book.attempt_start(attempt).await?;
            let c = self.chunk;
            self.book
                .emit(
                    "chunk_started",
                    json!({ "seq": c.seq, "chapter_index": c.chapter_index, "part_index": c.part_index,
                            "parts_in_chapter": c.parts_in_chapter, "attempt": attempt + 1 }),
                )
                .await?;
            self.book.deps.broadcaster.do_send(ChunkStream {
                book_id: self.book.book_id.clone(),
                chunk_seq: c.seq,
                piece: StreamPiece::Begin,
            });
            Ok(())
        })
    }
}

impl ChunkWriter<'_> {
    /// Writes and commits the chunk; returns its word count.
    pub async fn write(self) -> Result<u32, Halt> {
        let ChunkWriter {
            book,
            architecture,
            chunk,
            rolling_summary,
            instruction,
        } = self;
        let deps = book.deps.clone();
        let previous = if chunk.seq > 1 {
            let seq = chunk.seq - 1;
            store_call(&deps.config.store_retry, || {
                deps.store.chunk_text(&book.book_id, seq)
            })
            .await
            .map_err(|e| Halt::from_store("could not read the previous chunk", e))?
            .map(|t| tail(&t, deps.config.tail_chars).to_string())
        } else {
            None
        };
        let request = chunk_request(
            architecture,
            chunk,
            rolling_summary,
            previous.as_deref(),
            &book.book_id,
            deps.llm.max_output_tokens(),
            &deps.config,
        );
        let request = match instruction {
            Some(i) => with_instruction(request, i),
            None => request,
        };
        book.ensure_budget(&request)?;
        let book_id = book.book_id.clone();
        let broadcaster = deps.broadcaster.clone();
        let mut on_text = |t: &str| {
            broadcaster.do_send(ChunkStream {
                book_id: book_id.clone(),
                chunk_seq: chunk.seq,
                piece: StreamPiece::Text(t.to_string()),
            })
        };
        let mut calls = Vec::new();
        let mut hooks = WriterHooks {
            book: &mut *book,
            chunk,
        };
        let result = call_with_retry(&deps, &request, &mut hooks, &mut on_text, &mut calls).await;
        book.account(&calls);
        let completion = result.map_err(|e| match e {
            CallError::Exhausted(e) => Halt::Paused(format!(
                "chunk {} still failing after {} attempts: {e}",
                chunk.seq, deps.config.retry.max_attempts
            )),
            CallError::Permanent(e) => {
                Halt::Failed(format!("the AI provider rejected chunk {}: {e}", chunk.seq))
            }
            CallError::Halt(h) => h,
        })?;
        book.resume_if_paused().await?;
        let text = book
            .fit_length(&request, completion.text, chunk.word_budget, &mut on_text)
            .await?;
        let words = super::length::word_count(&text);
        let commit = ChunkCommit {
            book_id: book.book_id.clone(),
            seq: chunk.seq,
            chapter_index: chunk.chapter_index,
            part_index: chunk.part_index,
            text,
            words,
            usage: completion.usage,
            fence: book.fence,
        };
        // The chunk and its `chunk_completed` in one transaction: never one without the other.
        let completed = NewEvent::new(
            "chunk_completed",
            json!({ "seq": chunk.seq, "chapter_index": chunk.chapter_index,
                    "part_index": chunk.part_index, "words": words }),
        );
        let (outcome, events) = store_call(&deps.config.store_retry, || {
            deps.store
                .commit_chunk(commit.clone(), vec![completed.clone()])
        })
        .await
        .map_err(|e| Halt::from_store("could not save the chunk", e))?;
        if outcome == CommitOutcome::AlreadyPresent {
            log::info!(
                "book {}: chunk {} was already committed",
                book.book_id,
                chunk.seq
            );
        }
        deps.broadcaster.do_send(ChunkStream {
            book_id: book.book_id.clone(),
            chunk_seq: chunk.seq,
            piece: StreamPiece::End,
        });
        book.publish(events);
        Ok(words)
    }
}
