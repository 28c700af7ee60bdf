//! The queue's handlers for architecture and book jobs: thin adapters from a claimed job to `Runner`.
//! A book job runs under the job's fence; if its lease is lost the pool abandons the job, and the engine
//! run stops by itself at its next write once the new owner has taken the book over.

use buko_actors::{Fence, Regenerate};
use futures_util::future::LocalBoxFuture;

use super::{RunOutcome, Runner};
use crate::queue::{ClaimedJob, JobHandler, JobOutcome, JobPayload, LeaseHandle};

pub struct ArchitectureHandler(pub Runner);
pub struct BookHandler(pub Runner);

fn outcome(run: RunOutcome) -> JobOutcome {
    match run {
        RunOutcome::Done(note) => {
            log::debug!(target: "buko::runner", "job done: {note}");
            JobOutcome::Done
        }
        RunOutcome::Retry(error) => JobOutcome::Retry { after: None, error },
        RunOutcome::Failed(error) => JobOutcome::Failed { error },
        RunOutcome::Later(after) => JobOutcome::Later {
            at: crate::db::now()
                + chrono::Duration::from_std(after).unwrap_or(chrono::Duration::seconds(60)),
        },
    }
}

fn wrong_payload(job: &ClaimedJob) -> JobOutcome {
    JobOutcome::Failed {
        error: format!("unexpected payload on this queue: {:?}", job.payload),
    }
}

impl JobHandler for ArchitectureHandler {
    fn run(&self, job: ClaimedJob, _lease: LeaseHandle) -> LocalBoxFuture<'static, JobOutcome> {
        let runner = self.0.clone();
        Box::pin(async move {
            match &job.payload {
                JobPayload::Architecture { book_id } => outcome(runner.architecture(book_id).await),
                _ => wrong_payload(&job),
            }
        })
    }
}

impl JobHandler for BookHandler {
    fn run(&self, job: ClaimedJob, lease: LeaseHandle) -> LocalBoxFuture<'static, JobOutcome> {
        let runner = self.0.clone();
        let fence: Fence = lease.fence();
        Box::pin(async move {
            match &job.payload {
                JobPayload::Book {
                    book_id,
                    regenerate_chapter,
                    instruction,
                    refresh_following,
                } => {
                    let regenerate = regenerate_chapter.map(|chapter| Regenerate {
                        chapter,
                        instruction: instruction.clone(),
                        refresh_following: *refresh_following,
                    });
                    outcome(runner.book(book_id, fence, regenerate).await)
                }
                _ => wrong_payload(&job),
            }
        })
    }
}
