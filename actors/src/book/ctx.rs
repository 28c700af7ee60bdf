//! A running book's handle on the world: durable events (written in the same transaction as the
//! state change they report, then sent to the broadcaster in the store's order), status changes, the
//! author's control flag, usage totals, and the breaker waits that pause the book with reason
//! `provider_unavailable` and resume it when calls are let through again.

use std::time::Duration;

use futures_util::future::LocalBoxFuture;
use serde_json::{json, Value};

use crate::breaker::BreakerState;
use crate::broadcast::Publish;
use crate::caller::CallHooks;
use crate::deps::EngineDeps;
use crate::model::BookStatus;
use crate::outcome::{BookOutcome, Halt};
use crate::ports::{BookEvent, CallRecord, Control, Fence, NewEvent, Usage};
use crate::progress::ProgressMessage;
use crate::retry::store_call;

pub(crate) const PROVIDER_UNAVAILABLE: &str = "provider_unavailable";

pub(crate) struct BookCtx {
    pub deps: EngineDeps,
    pub book_id: String,
    pub fence: Fence,
    /// Set while the book waits for an open breaker (its status says `paused`).
    pub paused_for_provider: bool,
    pub usage: Usage,
    pub cost_usd: f64,
    /// The book's cost limit (USD), read at the run's start; `None`: no limit.
    pub budget_usd: Option<f64>,
}

impl BookCtx {
    pub fn new(deps: EngineDeps, book_id: String, fence: Fence) -> Self {
        BookCtx {
            deps,
            book_id,
            fence,
            paused_for_provider: false,
            usage: Usage::default(),
            cost_usd: 0.0,
            budget_usd: None,
        }
    }

    /// Appends a durable event that reports no state change (the store assigns its seq) and publishes
    /// it as stored.
    pub async fn emit(&self, kind: &str, data: Value) -> Result<(), Halt> {
        let store = &self.deps.store;
        let event = store_call(&self.deps.config.store_retry, || {
            store.append_event(&self.book_id, kind, data.clone(), self.fence)
        })
        .await
        .map_err(|e| Halt::from_store("could not record an event", e))?;
        self.publish(vec![event]);
        Ok(())
    }

    /// Sends events as stored (after their transaction committed), in the store's order — unless the
    /// store already published them at their commit.
    pub fn publish(&self, events: Vec<BookEvent>) {
        if self.deps.store_publishes {
            return;
        }
        for event in events {
            crate::progress::log_if_slow("engine", event.at, &event.book_id, event.seq);
            self.deps
                .broadcaster
                .do_send(Publish(ProgressMessage::from_event(event)));
        }
    }

    pub async fn set_status(&self, status: BookStatus, reason: Option<String>) -> Result<(), Halt> {
        self.set_status_with(status, reason, Vec::new(), Vec::new())
            .await
    }

    /// Sets the status and writes its `status` event, preceded by `before` and followed by `after`,
    /// in one transaction; publishes them once it committed.
    pub async fn set_status_with(
        &self,
        status: BookStatus,
        reason: Option<String>,
        before: Vec<NewEvent>,
        after: Vec<NewEvent>,
    ) -> Result<(), Halt> {
        let mut events = before;
        events.push(NewEvent::new(
            "status",
            json!({ "status": status.as_str(), "reason": reason }),
        ));
        events.extend(after);
        let store = &self.deps.store;
        let stored = store_call(&self.deps.config.store_retry, || {
            store.set_status(
                &self.book_id,
                status,
                reason.clone(),
                events.clone(),
                self.fence,
            )
        })
        .await
        .map_err(|e| Halt::from_store("could not update the status", e))?;
        self.publish(stored);
        Ok(())
    }

    /// The author's wish, read between chunks (it may have been set on another node).
    pub async fn check_control(&self) -> Result<(), Halt> {
        let store = &self.deps.store;
        let control = store_call(&self.deps.config.store_retry, || {
            store.control(&self.book_id)
        })
        .await
        .map_err(|e| Halt::from_store("could not read the book's controls", e))?;
        match control {
            Control::Run => Ok(()),
            Control::Pause => Err(Halt::Paused(PAUSED_BY_AUTHOR.to_string())),
            Control::Cancel => Err(Halt::Cancelled),
        }
    }

    /// Back to `generating` after waiting for the provider (the breaker closed, or a call succeeded).
    pub async fn resume_if_paused(&mut self) -> Result<(), Halt> {
        if self.paused_for_provider {
            self.set_status(BookStatus::Generating, None).await?;
            self.paused_for_provider = false;
        }
        Ok(())
    }

    pub fn account(&mut self, calls: &[CallRecord]) {
        for c in calls {
            self.usage.add(c.usage);
            self.cost_usd += c.cost_usd;
        }
    }

    pub fn usage_json(&self) -> Value {
        json!({
            "input_tokens": self.usage.input_tokens,
            "output_tokens": self.usage.output_tokens,
            "cost_usd": self.cost_usd,
        })
    }

    /// Writes what a stop means (status and event) and turns it into the run's outcome. Fenced writes
    /// nothing: another node owns the book.
    pub async fn finalize(&self, halt: Halt) -> BookOutcome {
        let written = match &halt {
            Halt::Fenced => return BookOutcome::Fenced,
            Halt::Failed(reason) => {
                let error = NewEvent::new("error", json!({ "message": reason }));
                self.set_status_with(
                    BookStatus::Failed,
                    Some(reason.clone()),
                    vec![error],
                    vec![],
                )
                .await
            }
            Halt::Paused(reason) => {
                self.set_status(BookStatus::Paused, Some(reason.clone()))
                    .await
            }
            Halt::Cancelled => self.set_status(BookStatus::Cancelled, None).await,
            // The status already says paused / provider_unavailable.
            Halt::StoreDown(_) | Halt::ProviderWait(_) => Ok(()),
        };
        match written {
            Err(Halt::Fenced) => BookOutcome::Fenced,
            Err(e) => {
                log::error!(
                    "book {}: could not record how it stopped ({e:?})",
                    self.book_id
                );
                halt.into()
            }
            Ok(()) => halt.into(),
        }
    }
}

/// The reason of a pause the author asked for (a book paused for any other reason resumes by itself
/// or needs a fix; this one waits for the author).
pub const PAUSED_BY_AUTHOR: &str = "paused by the author";

impl Halt {
    pub(crate) fn from_control(control: Control) -> Option<Halt> {
        match control {
            Control::Run => None,
            Control::Pause => Some(Halt::Paused(PAUSED_BY_AUTHOR.to_string())),
            Control::Cancel => Some(Halt::Cancelled),
        }
    }
}

impl CallHooks for BookCtx {
    fn breaker_open(&mut self, retry_in: Duration) -> LocalBoxFuture<'_, Result<bool, Halt>> {
        Box::pin(async move {
            // The author may cancel or pause a book that waits for the provider.
            self.check_control().await?;
            if !self.paused_for_provider {
                self.set_status(BookStatus::Paused, Some(PROVIDER_UNAVAILABLE.to_string()))
                    .await?;
                self.paused_for_provider = true;
            }
            // Open (not half-open with its trials out, which is answered within a call): free the
            // job's slot and come back when the breaker lets a trial through.
            let open = matches!(
                self.deps.breakers.state(self.deps.llm.provider()),
                BreakerState::Open { .. }
            );
            if open && self.deps.config.yield_while_breaker_open {
                return Err(Halt::ProviderWait(retry_in));
            }
            Ok(true)
        })
    }

    fn attempt_start(&mut self, _attempt: u32) -> LocalBoxFuture<'_, Result<(), Halt>> {
        // A half-open trial is not a recovery yet: stay paused until the breaker closes or it succeeds.
        Box::pin(async move {
            if self.deps.breakers.state(self.deps.llm.provider()) == BreakerState::Closed {
                self.resume_if_paused().await?;
            }
            Ok(())
        })
    }
}
