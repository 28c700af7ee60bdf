//! The `cover` queue's handler: makes a generation's candidates through the image port, checks each
//! answer as untrusted input (decoded and re-encoded; what the provider sent is never stored), records
//! every call in the usage ledger, and settles the cover's status. A temporary failure (429, 5xx,
//! timeout) is retried by the queue, no sooner than the provider's `retry-after`; a permanent one (a
//! content-policy refusal, a bad key, an answer that is not an image) ends the generation with a
//! readable reason. Either way the previous cover stays.

use std::sync::Arc;
use std::time::Instant;

use buko_actors::{CallPurpose, CallRecord, LlmError, Usage};
use futures_util::future::LocalBoxFuture;

use crate::db::repo::covers;
use crate::db::{self, repo, DbPool};
use crate::images::{ImagePort, ImageRequest};
use crate::queue::{ClaimedJob, JobHandler, JobOutcome, JobPayload, LeaseHandle};

pub struct CoverArtHandler {
    pub db: DbPool,
    pub images: Arc<dyn ImagePort>,
}

impl JobHandler for CoverArtHandler {
    fn run(&self, job: ClaimedJob, _lease: LeaseHandle) -> LocalBoxFuture<'static, JobOutcome> {
        let (db, images) = (self.db.clone(), self.images.clone());
        Box::pin(async move {
            let JobPayload::CoverArt { book_id, count } = job.payload.clone() else {
                return JobOutcome::Failed {
                    error: format!("unexpected payload on the cover queue: {:?}", job.payload),
                };
            };
            let last_attempt = job.attempts >= job.max_attempts;
            match generate(&db, images.as_ref(), &book_id, count).await {
                Ok(()) => settle(&db, &book_id, None, JobOutcome::Done).await,
                Err(Failure::Provider(e)) if e.is_temporary() && !last_attempt => {
                    JobOutcome::Retry {
                        after: e.retry_after(),
                        error: e.to_string(),
                    }
                }
                Err(Failure::Provider(e)) => {
                    let reason = readable(&e);
                    let error = e.to_string();
                    settle(&db, &book_id, Some(reason), JobOutcome::Failed { error }).await
                }
                Err(Failure::Gone) => JobOutcome::Done,
                Err(Failure::Storage(e)) => JobOutcome::Retry {
                    after: None,
                    error: e.to_string(),
                },
            }
        })
    }
}

enum Failure {
    Provider(LlmError),
    /// The book was deleted meanwhile: nothing to do.
    Gone,
    Storage(db::DbError),
}

impl From<db::DbError> for Failure {
    fn from(e: db::DbError) -> Self {
        Failure::Storage(e)
    }
}

/// What the author reads on the editor.
fn readable(e: &LlmError) -> String {
    let message = match e {
        LlmError::Temporary { message, .. } | LlmError::Permanent { message, .. } => message,
    };
    format!("{} ({})", message, e.kind())
}

async fn settle(
    db: &DbPool,
    book_id: &str,
    error: Option<String>,
    outcome: JobOutcome,
) -> JobOutcome {
    let id = book_id.to_string();
    match db::run(db, move |c| {
        covers::finish_generating(c, &id, error.as_deref())
    })
    .await
    {
        Ok(()) => outcome,
        Err(e) => JobOutcome::Retry {
            after: None,
            error: e.to_string(),
        },
    }
}

async fn generate(
    db: &DbPool,
    images: &dyn ImagePort,
    book_id: &str,
    count: u32,
) -> Result<(), Failure> {
    let id = book_id.to_string();
    let found = db::run(db, move |c| {
        let Some(cover) = covers::find(c, &id)? else {
            return Ok(None);
        };
        let book = repo::books::get(c, &id)?;
        let existing = covers::list_art(c, &id)?.len();
        Ok(Some((cover, book, existing)))
    })
    .await;
    let (cover, book, existing) = match found {
        Ok(Some(x)) => x,
        Ok(None) => return Err(Failure::Gone),
        Err(e) if e.is_not_found() => return Err(Failure::Gone),
        Err(e) => return Err(e.into()),
    };
    for i in 0..count as usize {
        let request = ImageRequest {
            prompt: cover.prompt.clone(),
            seed: format!("{}#{}", book.id, existing + i),
            genre: book.genre.clone(),
            tone: book.tone.clone(),
        };
        let started = Instant::now();
        let answer = images.generate(request).await;
        let checked = match answer {
            Ok(bytes) => actix_web::web::block(move || {
                buko_export::cover::decode(&bytes).map(|img| buko_export::cover::reencode(&img))
            })
            .await
            .map_err(|e| LlmError::temporary(buko_actors::LlmErrorKind::Server, e.to_string()))
            .and_then(|r| {
                r.map_err(|e| {
                    LlmError::permanent(
                        buko_actors::LlmErrorKind::Malformed,
                        format!("the image provider's answer is not usable: {e}"),
                    )
                })
            }),
            Err(e) => Err(e),
        };
        record(db, images, &book.id, started, checked.as_ref().err()).await?;
        let (jpeg, thumb) = checked.map_err(Failure::Provider)?;
        let source = images.provider().to_string();
        let id = book.id.clone();
        db::run(db, move |c| covers::add_art(c, &id, &source, &jpeg, &thumb)).await?;
    }
    Ok(())
}

/// One image call in the usage ledger: priced per image when it succeeded.
async fn record(
    db: &DbPool,
    images: &dyn ImagePort,
    book_id: &str,
    started: Instant,
    error: Option<&LlmError>,
) -> Result<(), Failure> {
    let call = CallRecord {
        book_id: Some(book_id.to_string()),
        purpose: CallPurpose::CoverImage,
        provider: images.provider().to_string(),
        model: images.model().to_string(),
        usage: Usage::default(),
        cost_usd: if error.is_none() {
            images.price_per_image()
        } else {
            0.0
        },
        latency_ms: started.elapsed().as_millis() as u64,
        status: match error {
            None => "ok".into(),
            Some(e) if e.is_temporary() => "temporary".into(),
            Some(_) => "permanent".into(),
        },
        error_kind: error.map(LlmError::kind),
        request_id: None,
        at: chrono::Utc::now(),
    };
    db::run(db, move |c| {
        repo::engine::record_call(c, &call).map_err(|e| match e {
            repo::engine::QueryError::Db(e) => e,
            _ => db::DbError::not_found(),
        })
    })
    .await?;
    Ok(())
}
