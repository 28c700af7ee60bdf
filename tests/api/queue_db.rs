//! A fresh migrated database (SQLite file, or a new PostgreSQL database under `TEST_DATABASE_URL`)
//! without an app around it, for tests that drive the queue directly.
#![allow(dead_code)]

use buko::db::{self, DbConn, DbPool};
use buko::queue::{enqueue, Enqueued, JobPayload, NewJob};
use diesel::connection::SimpleConnection;
use diesel::Connection;

pub struct QueueDb {
    pub pool: DbPool,
    pub url: String,
    _dir: tempfile::TempDir,
    pg: Option<(String, String)>,
}

impl Drop for QueueDb {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.pg.take() {
            if let Ok(mut c) = diesel::PgConnection::establish(&admin_url) {
                let _ =
                    c.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
            }
        }
    }
}

impl QueueDb {
    pub fn new() -> QueueDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let (settings, pg) = crate::helpers::test_settings(dir.path());
        let url = settings.database_url.expose().to_string();
        let pool = db::build_pool(&url, 16).expect("pool");
        let mut c = pool.get().expect("connect");
        db::migrate(&mut c).expect("migrate");
        QueueDb {
            pool,
            url,
            _dir: dir,
            pg,
        }
    }

    pub fn conn(&self) -> r2d2::PooledConnection<buko::db::ConnectionManager> {
        self.pool.get().expect("connection")
    }

    pub fn is_pg(&self) -> bool {
        matches!(**self.conn(), DbConn::Pg(_))
    }

    pub fn add(&self, payload: JobPayload) -> String {
        self.add_job(NewJob::now(payload))
    }

    pub fn add_job(&self, job: NewJob) -> String {
        match enqueue(&mut self.conn(), job).expect("enqueue") {
            Enqueued::Created(id) => id,
            Enqueued::AlreadyActive => panic!("job unexpectedly already active"),
        }
    }

    /// `(status, attempts, last_error)` of a job.
    pub fn job(&self, id: &str) -> (String, i32, Option<String>) {
        use buko::db::schema::jobs;
        use diesel::prelude::*;
        jobs::table
            .find(id)
            .select((jobs::status, jobs::attempts, jobs::last_error))
            .first(&mut **self.conn())
            .expect("job row")
    }

    /// Makes a job due now (instead of sleeping through its backoff).
    pub fn make_due(&self, id: &str) {
        use buko::db::schema::jobs;
        use diesel::prelude::*;
        diesel::update(jobs::table.find(id))
            .set(jobs::run_at.eq(db::now()))
            .execute(&mut **self.conn())
            .expect("update run_at");
    }
}

pub fn book(id: &str) -> JobPayload {
    JobPayload::Book {
        book_id: id.into(),
        regenerate_chapter: None,
        instruction: None,
        refresh_following: false,
    }
}

pub fn arch(id: &str) -> JobPayload {
    JobPayload::Architecture { book_id: id.into() }
}
