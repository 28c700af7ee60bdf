//! The `email` queue's handler: looks up the book and its author, then sends the notification.
//! Delivery failures are retried with the queue's backoff; a vanished book or user fails the job.

use std::sync::Arc;

use diesel::prelude::*;
use futures_util::future::LocalBoxFuture;
use futures_util::FutureExt;

use crate::config::Settings;
use crate::db::schema::{books, users};
use crate::db::{self, DbPool};
use crate::queue::{ClaimedJob, JobHandler, JobOutcome, JobPayload, LeaseHandle};

pub struct EmailHandler {
    pub settings: Arc<Settings>,
    pub db: DbPool,
}

impl JobHandler for EmailHandler {
    fn run(&self, job: ClaimedJob, _lease: LeaseHandle) -> LocalBoxFuture<'static, JobOutcome> {
        let (settings, pool) = (self.settings.clone(), self.db.clone());
        async move {
            let JobPayload::BookCompletedEmail { book_id } = job.payload else {
                return JobOutcome::Failed {
                    error: "not an e-mail job".into(),
                };
            };
            let id = book_id.clone();
            let found = db::run(&pool, move |c| {
                Ok(books::table
                    .inner_join(users::table.on(users::id.eq(books::user_id)))
                    .filter(books::id.eq(&id))
                    .select((books::title, books::language, users::email))
                    .first::<(String, String, String)>(c)
                    .optional()?)
            })
            .await;
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
            let url = format!("{}/books/{book_id}", settings.mail.public_url);
            match super::send_book_completed(&settings.mail, settings.data_dir.join("outbox"), &email, &title, &url, language == "es")
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
