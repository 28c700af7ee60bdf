//! The book's memory as the author sees it: the continuity audit (its findings, dismissing one,
//! applying one as a regeneration of its chapter with the suggestion as instruction, turning the
//! audit off or on) and the story ledger the engine learned (`bible.learned`), which the author may
//! correct. Owner checks here; storage in `db::repo::memory`.

use crate::db::ids::BookId;
use buko_actors::{Architecture, Ledger};
use serde::Serialize;

use super::{BookError, BookService, RegenerateRequest};
use crate::db::models::User;
use crate::db::repo::engine::QueryError;
use crate::db::repo::memory::{self as store, FindingRow, APPLIED, DISMISSED};
use crate::db::{self};

/// Most chars of a ledger the author sends (its entries are bounded again when normalized).
pub const MAX_LEDGER_JSON: usize = 64 * 1024;

/// The audit of a book: whether it runs, and its findings (open first within each chapter's list
/// order: chapter, then severity).
#[derive(Clone, Debug, Serialize)]
pub struct AuditReport {
    pub enabled: bool,
    pub findings: Vec<FindingRow>,
}

impl AuditReport {
    pub fn open(&self) -> impl Iterator<Item = &FindingRow> {
        self.findings.iter().filter(|f| f.status == store::OPEN)
    }
}

fn ledger_error(e: QueryError) -> BookError {
    match e {
        QueryError::NotFound(_) => BookError::NotFound,
        QueryError::Db(e) => BookError::Storage(e),
        QueryError::Fenced(m) | QueryError::BadArchitecture(m) => BookError::invalid(
            "ledger",
            format!("the book has no usable architecture: {m}"),
        ),
    }
}

impl BookService {
    pub async fn audit(&self, user: &User, id: &BookId) -> Result<AuditReport, BookError> {
        let book = self.get(user, id).await?;
        Ok(db::run(&self.db, move |c| {
            Ok(AuditReport {
                enabled: store::audit_enabled(c, &book.id)?,
                findings: store::list(c, &book.id)?,
            })
        })
        .await?)
    }

    /// Turns the audit on or off for the chapters written from now on.
    pub async fn set_audit(&self, user: &User, id: &BookId, on: bool) -> Result<bool, BookError> {
        let book = self.get(user, id).await?;
        db::run(&self.db, move |c| store::set_audit_enabled(c, &book.id, on)).await?;
        Ok(on)
    }

    async fn open_finding(
        &self,
        user: &User,
        id: &BookId,
        finding: &str,
    ) -> Result<FindingRow, BookError> {
        let book = self.get(user, id).await?;
        let fid = finding.to_string();
        let row = db::run(&self.db, move |c| store::find(c, &book.id, &fid))
            .await?
            .ok_or(BookError::NotFound)?;
        if row.status != store::OPEN {
            return Err(BookError::invalid(
                "finding",
                format!("this finding is already {}", row.status),
            ));
        }
        Ok(row)
    }

    async fn resolve(&self, row: &FindingRow, status: &'static str) -> Result<(), BookError> {
        let (book, fid) = (row.book_id.clone(), row.id.clone());
        let changed = db::run(&self.db, move |c| store::resolve(c, &book, &fid, status)).await?;
        if !changed {
            return Err(BookError::invalid(
                "finding",
                "this finding is no longer open",
            ));
        }
        Ok(())
    }

    pub async fn dismiss_finding(
        &self,
        user: &User,
        id: &BookId,
        finding: &str,
    ) -> Result<(), BookError> {
        let row = self.open_finding(user, id, finding).await?;
        self.resolve(&row, DISMISSED).await
    }

    /// Rewrites the finding's chapter with its suggestion (or, without one, its explanation) as the
    /// instruction: a new version of the chapter, the current text kept as the previous one.
    pub async fn apply_finding(
        &self,
        user: &User,
        id: &BookId,
        finding: &str,
    ) -> Result<buko_actors::BookStatus, BookError> {
        let row = self.open_finding(user, id, finding).await?;
        let advice = if row.suggestion.trim().is_empty() {
            &row.explanation
        } else {
            &row.suggestion
        };
        let instruction = format!("Fix this passage: \"{}\" — {}", row.quote, advice);
        let req = RegenerateRequest {
            chapter: usize::try_from(row.chapter_index).unwrap_or(0),
            instruction: Some(buko_actors::prompt::head(
                &instruction,
                super::MAX_INSTRUCTION_CHARS - 1,
            )),
            refresh_following: false,
        };
        // Marked first: the regeneration's run forgets the chapter's open findings.
        self.resolve(&row, APPLIED).await?;
        match self.regenerate(user, id, req).await {
            Ok(status) => Ok(status),
            Err(e) => {
                let (book, fid) = (row.book_id.clone(), row.id.clone());
                db::run(&self.db, move |c| store::reopen(c, &book, &fid)).await?;
                Err(e)
            }
        }
    }

    /// The story ledger as stored (empty before the first chapter is finished).
    pub async fn ledger(&self, user: &User, id: &BookId) -> Result<Ledger, BookError> {
        let book = self.get(user, id).await?;
        let a: Option<Architecture> = book
            .architecture
            .as_deref()
            .and_then(|j| serde_json::from_str(j).ok());
        Ok(a.map(|a| a.bible.learned).unwrap_or_default())
    }

    /// Replaces the ledger with the author's version (later chapters are written with it).
    pub async fn update_ledger(
        &self,
        user: &User,
        id: &BookId,
        ledger: Ledger,
    ) -> Result<Ledger, BookError> {
        let book = self.get(user, id).await?;
        if book.architecture.is_none() {
            return Err(BookError::invalid(
                "ledger",
                "the book has no architecture yet",
            ));
        }
        let r = db::run(&self.db, move |c| {
            Ok(store::replace_ledger(c, &book.id, ledger))
        })
        .await?;
        r.map_err(ledger_error)
    }
}
