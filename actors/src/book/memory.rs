//! What a run does when a chapter is written: read the whole chapter back, turn a long one into notes
//! (one per part), learn the story ledger from it, audit it for continuity (when the book asks for
//! it), and last refresh the rolling summary. The summary is saved last because it marks the chapter
//! done: a run restarted before it repeats these steps, and each of them is idempotent in the store.

use std::collections::BTreeMap;

use serde_json::json;

use super::ctx::BookCtx;
use crate::audit::{audit_request, parse_findings};
use crate::caller::{call_with_retry, CallError};
use crate::ledger::{ledger_request, parse_ledger};
use crate::llm_call::Completion;
use crate::memory::{chapter_parts, note_request, notes_source};
use crate::model::Architecture;
use crate::outcome::Halt;
use crate::plan::PlannedChunk;
use crate::ports::{CompletionRequest, NewEvent};
use crate::prompt::{head, summary_request};
use crate::retry::store_call;

/// What the run knows about the chapter it finished.
pub(crate) struct FinishedChapter<'a> {
    pub parts: &'a [PlannedChunk],
    /// The last chapter needs no summary nor ledger: nothing is written after it.
    pub is_last: bool,
    pub audit: bool,
}

/// Runs the chapter's memory steps; returns the new rolling summary (none for the last chapter).
/// Updates `architecture.bible.learned` with the ledger as stored.
pub(crate) async fn remember_chapter(
    book: &mut BookCtx,
    architecture: &mut Architecture,
    chapter: FinishedChapter<'_>,
    summaries: &BTreeMap<usize, String>,
) -> Result<Option<String>, Halt> {
    let deps = book.deps.clone();
    let config = &deps.config;
    let chapter_index = chapter.parts[0].chapter_index;
    let mut texts = Vec::with_capacity(chapter.parts.len());
    for part in chapter.parts {
        let t = store_call(&config.store_retry, || {
            deps.store.chunk_text(&book.book_id, part.seq)
        })
        .await
        .map_err(|e| Halt::from_store("could not read the chapter", e))?;
        texts.push(t.unwrap_or_default());
    }
    let previous = summaries
        .range(..chapter_index)
        .next_back()
        .map(|(_, s)| s.as_str());
    let max_out = deps.llm.max_output_tokens();

    if chapter.audit {
        let whole = texts.join("\n");
        let mut findings = Vec::new();
        for part in chapter_parts(&texts, config.audit_source_chars) {
            let request = audit_request(
                architecture,
                chapter_index,
                previous,
                &part,
                &book.book_id,
                max_out,
                config,
            );
            let answer = call(book, &request, "audit of", chapter_index).await?;
            findings.extend(parse_findings(
                &answer.text,
                &whole,
                config.audit_max_findings,
            ));
        }
        findings.truncate(config.audit_max_findings);
        store_call(&config.store_retry, || {
            deps.store
                .save_audit(&book.book_id, chapter_index, findings.clone(), book.fence)
        })
        .await
        .map_err(|e| Halt::from_store("could not save the audit", e))?;
    }
    if chapter.is_last {
        return Ok(None);
    }

    let parts = chapter_parts(&texts, config.summary_source_chars);
    let source = if parts.len() == 1 {
        parts.into_iter().next().unwrap_or_default()
    } else {
        let mut notes = Vec::with_capacity(parts.len());
        for (i, part) in parts.iter().enumerate() {
            let request = note_request(
                architecture,
                chapter_index,
                (i, parts.len()),
                part,
                &book.book_id,
                max_out,
                config,
            );
            notes.push(call(book, &request, "note on", chapter_index).await?.text);
        }
        notes_source(&notes, config)
    };

    let request = ledger_request(
        architecture,
        chapter_index,
        &source,
        &book.book_id,
        max_out,
        config,
    );
    let answer = call(book, &request, "ledger of", chapter_index).await?;
    match parse_ledger(&answer.text) {
        Some(learned) if !learned.is_empty() => {
            let stored = store_call(&config.store_retry, || {
                deps.store
                    .merge_ledger(&book.book_id, learned.clone(), book.fence)
            })
            .await
            .map_err(|e| Halt::from_store("could not save the story ledger", e))?;
            architecture.bible.learned = stored;
        }
        Some(_) => {}
        None => log::warn!(
            "book {}: the ledger of chapter {} was not JSON; nothing learned",
            book.book_id,
            chapter_index + 1
        ),
    }

    let request = summary_request(
        architecture,
        chapter_index,
        previous,
        &source,
        &book.book_id,
        max_out,
        config,
    );
    let completion = call(book, &request, "summary of", chapter_index).await?;
    let summary = head(completion.text.trim(), config.summary_chars);
    // The summary marks the chapter done: saved with its `chapter_completed`, in one transaction.
    let completed = NewEvent::new(
        "chapter_completed",
        chapter_completed(architecture, chapter_index),
    );
    let events = store_call(&config.store_retry, || {
        deps.store.save_chapter_summary(
            &book.book_id,
            chapter_index,
            summary.clone(),
            vec![completed.clone()],
            book.fence,
        )
    })
    .await
    .map_err(|e| Halt::from_store("could not save the chapter summary", e))?;
    book.publish(events);
    Ok(Some(summary))
}

/// One call of the chapter's memory, accounted to the book; failures mean what they mean for a chunk.
async fn call(
    book: &mut BookCtx,
    request: &CompletionRequest,
    what: &str,
    chapter_index: usize,
) -> Result<Completion, Halt> {
    book.ensure_budget(request)?;
    let deps = book.deps.clone();
    let mut calls = Vec::new();
    let result = call_with_retry(&deps, request, &mut *book, &mut |_| {}, &mut calls).await;
    book.account(&calls);
    let completion = result.map_err(|e| match e {
        CallError::Exhausted(e) => Halt::Paused(format!(
            "could not write the {what} chapter {}: {e}",
            chapter_index + 1
        )),
        CallError::Permanent(e) => Halt::Failed(format!(
            "the AI provider rejected the {what} chapter {}: {e}",
            chapter_index + 1
        )),
        CallError::Halt(h) => h,
    })?;
    book.resume_if_paused().await?;
    Ok(completion)
}

/// The `chapter_completed` event's data.
pub(super) fn chapter_completed(
    architecture: &Architecture,
    chapter_index: usize,
) -> serde_json::Value {
    let title = architecture
        .chapters
        .get(chapter_index)
        .map(|c| c.title.as_str());
    json!({ "chapter_index": chapter_index, "title": title })
}
