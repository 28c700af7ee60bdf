//! The `email` queue's handler: looks up the book and its author, then sends the notification.
//! Delivery failures are retried with the queue's backoff; a vanished book or user fails the job.

use std::sync::Arc;

use futures_util::future::LocalBoxFuture;
use futures_util::FutureExt;

use crate::db::{self, repo, DbPool};
use crate::queue::{ClaimedJob, JobHandler, JobOutcome, JobPayload, LeaseHandle};

pub struct EmailHandler {
    pub mail: Arc<super::MailSettings>,
    /// The outbox folder's parent when no SMTP server is configured.
    pub data_dir: std::path::PathBuf,
    pub db: DbPool,
}

impl JobHandler for EmailHandler {
    fn run(&self, job: ClaimedJob, _lease: LeaseHandle) -> LocalBoxFuture<'static, JobOutcome> {
        let (mail, data_dir, pool) = (self.mail.clone(), self.data_dir.clone(), self.db.clone());
        async move {
            let book_id = match job.payload {
                JobPayload::BookCompletedEmail { book_id } => book_id,
                JobPayload::AccountExistsEmail { user_id } => {
                    return super::account::run(&mail, &data_dir, &pool, &user_id).await;
                }
                _ => {
                    return JobOutcome::Failed {
                        error: "not an e-mail job".into(),
                    }
                }
            };
            let id = book_id.clone();
            let found = db::run(&pool, move |c| repo::books::completion_notice(c, &id)).await;
            let (title, language, email) = match found {
                Ok(Some(row)) => row,
                Ok(None) => {
                    return JobOutcome::Failed {
                        error: format!("book {book_id} or its author no longer exists"),
                    }
                }
                Err(e) => {
                    return JobOutcome::Retry {
                        after: None,
                        error: e.to_string(),
                    }
                }
            };
            let url = format!("{}/books/{book_id}", mail.public_url);
            match super::send_book_completed(&mail, &data_dir, &email, &title, &url, language == "es")
                .await
            {
                Ok(delivery) => {
                    log::info!(target: "buko::email", book = book_id.as_str(), via = format!("{delivery:?}").as_str(); "book-completed e-mail sent");
                    JobOutcome::Done
                }
                Err(e @ super::MailError::Address(_)) => JobOutcome::Failed {
                    error: e.to_string(),
                },
                Err(e) => JobOutcome::Retry {
                    after: None,
                    error: e.to_string(),
                },
            }
        }
        .boxed_local()
    }
}
