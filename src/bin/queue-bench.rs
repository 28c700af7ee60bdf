//! Job-queue benchmark (run in release): claim throughput with N workers over M no-op jobs, and the time
//! a crashed worker's job takes to be resumed by a live worker pool (lease expiry + sweeper + claim).
//!
//! `cargo run --release --bin queue-bench -- [--jobs 20000] [--workers 8] [--recovery-runs 3]`
//! Database: `BENCH_DATABASE_URL` (a PostgreSQL admin URL: a fresh database is created and dropped; or
//! a SQLite path, recreated), default `postgres://postgres@127.0.0.1:5432/postgres`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use buko::db::{self, DbPool};
use buko::queue::{
    claim, complete, enqueue, handler_fn, JobHandlers, JobOutcome, JobPayload, NewJob, QueueName,
    QueueSettings, WorkerPool,
};
use diesel::connection::SimpleConnection;
use diesel::Connection;
use futures_util::FutureExt;

struct Args {
    jobs: usize,
    workers: usize,
    recovery_runs: usize,
}

fn args() -> anyhow::Result<Args> {
    let mut a = Args {
        jobs: 20_000,
        workers: 8,
        recovery_runs: 3,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let v: usize = it
            .next()
            .context("a value after the flag")?
            .parse()
            .context("a number")?;
        match flag.as_str() {
            "--jobs" => a.jobs = v,
            "--workers" => a.workers = v,
            "--recovery-runs" => a.recovery_runs = v,
            other => anyhow::bail!("unknown flag {other}"),
        }
    }
    Ok(a)
}

/// A fresh database for the run; PostgreSQL's is dropped at the end.
struct BenchDb {
    url: String,
    admin: Option<(String, String)>,
}

impl BenchDb {
    fn create(base: &str) -> anyhow::Result<BenchDb> {
        if db::Backend::from_url(base) == db::Backend::Sqlite {
            let _ = std::fs::remove_file(base);
            return Ok(BenchDb {
                url: base.to_string(),
                admin: None,
            });
        }
        let name = format!("buko_bench_{}", uuid::Uuid::new_v4().simple());
        let mut c = diesel::PgConnection::establish(base)?;
        c.batch_execute(&format!("CREATE DATABASE \"{name}\""))?;
        let (prefix, _) = base
            .rsplit_once('/')
            .context("a database URL with a path")?;
        Ok(BenchDb {
            url: format!("{prefix}/{name}"),
            admin: Some((base.to_string(), name)),
        })
    }
}

impl Drop for BenchDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.admin {
            if let Ok(mut c) = diesel::PgConnection::establish(admin) {
                let _ =
                    c.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
            }
        }
    }
}

fn fill(pool: &DbPool, n: usize) -> anyhow::Result<()> {
    let mut c = pool.get()?;
    let ids: Vec<usize> = (0..n).collect();
    for chunk in ids.chunks(1000) {
        c.transaction::<_, db::DbError, _>(|c| {
            for i in chunk {
                enqueue(
                    c,
                    NewJob::now(JobPayload::BookCompletedEmail {
                        book_id: format!("b{i}"),
                    }),
                )?;
            }
            Ok(())
        })?;
    }
    Ok(())
}

/// Claims and completes until the queue is empty, from `workers` threads; returns jobs per second.
fn throughput(pool: &DbPool, jobs: usize, workers: usize) -> anyhow::Result<f64> {
    fill(pool, jobs)?;
    let done = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let handles: Vec<_> = (0..workers)
        .map(|w| {
            let (pool, done) = (pool.clone(), done.clone());
            std::thread::spawn(move || -> anyhow::Result<()> {
                let mut c = pool.get()?;
                let me = format!("bench-{w}");
                let lease = Duration::from_secs(15);
                while let Some(job) = claim(&mut c, &QueueName::ALL, &me, lease)? {
                    anyhow::ensure!(complete(&mut c, &job.lease())?, "lost a lease");
                    done.fetch_add(1, Ordering::Relaxed);
                }
                Ok(())
            })
        })
        .collect();
    for h in handles {
        h.join().map_err(|_| anyhow::anyhow!("worker panicked"))??;
    }
    let secs = started.elapsed().as_secs_f64();
    anyhow::ensure!(done.load(Ordering::Relaxed) == jobs, "not every job ran");
    Ok(jobs as f64 / secs)
}

/// A worker claims a job and dies (never renews); a live pool on default settings resumes it.
fn recovery(pool: &DbPool, url: &str) -> anyhow::Result<Duration> {
    let settings = QueueSettings::default();
    let mut c = pool.get()?;
    let created = enqueue(
        &mut c,
        NewJob::now(JobPayload::Book {
            book_id: uuid::Uuid::new_v4().to_string(),
            regenerate_chapter: None,
        }),
    )?;
    anyhow::ensure!(matches!(created, buko::queue::Enqueued::Created(_)));
    let crashed_at = Instant::now();
    claim(&mut c, &[QueueName::Book], "crashed", settings.lease)?.context("claimable job")?;
    drop(c);
    let resumed: Arc<Mutex<Option<Instant>>> = Arc::default();
    let r = resumed.clone();
    let (pool, url) = (pool.clone(), url.to_string());
    actix_web::rt::System::new().block_on(async move {
        let handler = handler_fn(move |_, _| {
            *r.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
            async { JobOutcome::Done }.boxed_local()
        });
        let workers = WorkerPool::start(
            pool,
            &url,
            settings,
            JobHandlers::new().with(QueueName::Book, handler),
            "survivor",
        );
        while resumed.lock().unwrap_or_else(|p| p.into_inner()).is_none() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        workers.stop();
        let at = resumed.lock().unwrap_or_else(|p| p.into_inner()).take();
        at.map(|t| t.duration_since(crashed_at))
            .context("resume time")
    })
}

fn main() -> anyhow::Result<()> {
    let a = args()?;
    let base = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let bench = BenchDb::create(&base)?;
    let pool = db::build_pool(&bench.url, (a.workers as u32 + 4).max(8))?;
    db::migrate(&mut *pool.get()?).map_err(anyhow::Error::msg)?;
    let backend = db::Backend::from_url(&bench.url);
    println!("backend: {backend:?}");
    let rate = throughput(&pool, a.jobs, a.workers)?;
    println!(
        "claim+complete: {} jobs, {} workers: {rate:.0} jobs/s",
        a.jobs, a.workers
    );
    let mut times = Vec::new();
    for i in 0..a.recovery_runs {
        let t = recovery(&pool, &bench.url)?;
        println!(
            "recovery run {}: resumed {:.1} s after the crash",
            i + 1,
            t.as_secs_f64()
        );
        times.push(t);
        // Start the next crash at a different phase of the sweeper.
        std::thread::sleep(Duration::from_millis(1700));
    }
    times.sort();
    if let Some(median) = times.get(times.len() / 2) {
        println!(
            "recovery median: {:.1} s (lease 15 s, heartbeat 5 s, sweep every 5 s)",
            median.as_secs_f64()
        );
    }
    Ok(())
}
