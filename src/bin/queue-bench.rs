//! Job-queue benchmark (run in release): claim throughput with N workers over M no-op jobs, and the time
//! a crashed worker's job takes to be resumed by a live worker pool (lease expiry + sweeper + claim).
//!
//! `cargo run --release --bin queue-bench -- [--jobs 20000] [--workers 8] [--recovery-runs 5]`
//! Database: `BENCH_DATABASE_URL` (a PostgreSQL admin URL: a fresh database is created and dropped; or
//! a SQLite path, recreated), default `postgres://postgres@127.0.0.1:5432/postgres`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use buko::db::scratch::ScratchDb;
use buko::db::{self, DbPool};
use buko::queue::{
    claim, complete, enqueue, handler_fn, JobHandlers, JobOutcome, JobPayload, NewJob, QueueName,
    QueueSettings, WorkerPool,
};
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
        recovery_runs: 5,
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

/// With a live pool (default settings: lease 15 s, heartbeat 5 s, sweep 5 s) already running, a worker
/// claims a job and dies at a random phase of the sweeper: how long until the pool resumes the job?
/// The job is enqueued and claimed in one transaction so the pool never sees it queued.
fn recovery(pool: &DbPool, url: &str, runs: usize) -> anyhow::Result<Vec<Duration>> {
    let settings = QueueSettings::default();
    let resumed: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let r = resumed.clone();
    let (pool, url) = (pool.clone(), url.to_string());
    actix_web::rt::System::new().block_on(async move {
        let handler = handler_fn(move |job, _| {
            r.lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(job.id.clone(), Instant::now());
            async { JobOutcome::Done }.boxed_local()
        });
        let workers = WorkerPool::start(
            pool.clone(),
            &url,
            settings.clone(),
            JobHandlers::new().with(QueueName::Book, handler),
            "survivor",
        );
        let mut times = Vec::new();
        for _ in 0..runs {
            let phase = rand::random_range(0..5000u64);
            tokio::time::sleep(Duration::from_millis(phase)).await;
            let lease = settings.lease;
            let id = db::run(&pool, move |c| {
                c.transaction(|c| {
                    enqueue(
                        c,
                        NewJob::now(JobPayload::Book {
                            book_id: uuid::Uuid::new_v4().to_string(),
                            regenerate_chapter: None,
                            instruction: None,
                            refresh_following: false,
                        }),
                    )?;
                    claim(c, &[QueueName::Book], "crashed", lease)
                })
            })
            .await?
            .context("the crashed worker's claim")?
            .id;
            let crashed_at = Instant::now();
            let resumed_at = loop {
                if let Some(t) = resumed.lock().unwrap_or_else(|p| p.into_inner()).get(&id) {
                    break *t;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            };
            let t = resumed_at.duration_since(crashed_at);
            println!("recovery: resumed {:.1} s after the crash", t.as_secs_f64());
            times.push(t);
        }
        workers.stop();
        Ok(times)
    })
}

fn main() -> anyhow::Result<()> {
    let a = args()?;
    let base = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let bench = ScratchDb::create(&base, "buko_bench")?;
    let pool = db::build_pool(bench.url(), (a.workers as u32 + 4).max(8))?;
    db::migrate(&mut *pool.get()?)?;
    let backend = db::Backend::from_url(bench.url());
    println!("backend: {backend:?}");
    let rate = throughput(&pool, a.jobs, a.workers)?;
    println!(
        "claim+complete: {} jobs, {} workers: {rate:.0} jobs/s",
        a.jobs, a.workers
    );
    let mut times = recovery(&pool, bench.url(), a.recovery_runs)?;
    times.sort();
    if let (Some(median), Some(max)) = (times.get(times.len() / 2), times.last()) {
        println!(
            "recovery: median {:.1} s, max {:.1} s over {} runs (lease 15 s, sweep every 5 s)",
            median.as_secs_f64(),
            max.as_secs_f64(),
            times.len()
        );
    }
    Ok(())
}
