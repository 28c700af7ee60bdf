//! Analytics benchmark (run in release): seeds a database with `--calls` LLM calls, `--books` books
//! (with chunks, completions and failures) and users spread over `--days`, back-fills the roll-up, then
//! times the admin report of every range, the raw aggregate the roll-up replaces, one author's history
//! and one live roll-up period (medians of `--runs`).
//!
//! `cargo run --release --bin analytics-seed -- [--calls 1000000] [--books 100000] [--days 30] [--runs 7]`
//! Database: `BENCH_DATABASE_URL` — a PostgreSQL admin URL (a fresh database is created and dropped) or
//! a SQLite path (recreated); default `postgres://postgres@127.0.0.1:5432/postgres`.

use std::time::Instant;

use anyhow::Context;
use buko::analytics::{self, author, rollup, Range};
use buko::db::scratch::ScratchDb;
use buko::db::{self, DbConn};
use chrono::{Duration, Utc};
use diesel::connection::SimpleConnection;
use rand::Rng;

struct Args {
    calls: usize,
    books: usize,
    days: i64,
    runs: usize,
}

fn args() -> anyhow::Result<Args> {
    let mut a = Args {
        calls: 1_000_000,
        books: 100_000,
        days: 30,
        runs: 7,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let v = it.next().context("a value after each flag")?;
        match flag.as_str() {
            "--calls" => a.calls = v.parse()?,
            "--books" => a.books = v.parse()?,
            "--days" => a.days = v.parse()?,
            "--runs" => a.runs = v.parse()?,
            other => anyhow::bail!("unknown flag {other}"),
        }
    }
    Ok(a)
}

fn ts(t: chrono::DateTime<Utc>) -> String {
    t.naive_utc().format("%Y-%m-%d %H:%M:%S%.6f").to_string()
}

/// Inserts rows as multi-row `INSERT`s of `per` rows, in one transaction per 20 statements.
fn insert(
    c: &mut DbConn,
    head: &str,
    rows: impl Iterator<Item = String>,
    per: usize,
) -> anyhow::Result<()> {
    let mut batch = Vec::with_capacity(per);
    let mut sql = String::new();
    let mut statements = 0;
    let flush = |sql: &mut String, c: &mut DbConn| -> anyhow::Result<()> {
        if !sql.is_empty() {
            c.batch_execute(&format!("BEGIN; {sql} COMMIT;"))?;
            sql.clear();
        }
        Ok(())
    };
    for row in rows {
        batch.push(row);
        if batch.len() == per {
            sql.push_str(&format!("{head} {};", batch.join(",")));
            batch.clear();
            statements += 1;
            if statements % 20 == 0 {
                flush(&mut sql, c)?;
            }
        }
    }
    if !batch.is_empty() {
        sql.push_str(&format!("{head} {};", batch.join(",")));
    }
    flush(&mut sql, c)
}

fn seed(c: &mut DbConn, a: &Args) -> anyhow::Result<String> {
    let now = Utc::now();
    let span = a.days * 86_400;
    let mut rng = rand::rng();
    let users: Vec<String> = (0..1_000).map(|i| format!("u{i:05}")).collect();
    insert(
        c,
        "INSERT INTO users (id, email, password_hash, display_name, role, plan, disabled, failed_logins, \
         session_version, created_at, updated_at) VALUES",
        users.iter().map(|u| {
            let at = ts(now - Duration::seconds(rand::rng().random_range(0..span)));
            format!("('{u}', '{u}@bench.test', 'x', '{u}', 'user', 'free', false, 0, 0, '{at}', '{at}')")
        }),
        500,
    )?;
    let mut book_rows = Vec::with_capacity(a.books);
    let mut chunk_rows = Vec::new();
    let mut event_rows = Vec::new();
    for i in 0..a.books {
        let id = format!("b{i:07}");
        let user = &users[rng.random_range(0..users.len())];
        let created = now - Duration::seconds(rng.random_range(0..span));
        let roll: f64 = rng.random();
        let (status, done) = if roll < 0.7 {
            let d = (created + Duration::seconds(rng.random_range(60..7_200))).min(now);
            ("completed", format!("'{}'", ts(d)))
        } else {
            (
                if roll < 0.75 { "failed" } else { "generating" },
                "NULL".into(),
            )
        };
        book_rows.push(format!(
            "('{id}', '{user}', 'Bench', 'idea', '', '', '', 'en', 50, '{status}', false, 'run', 0, 1, 3, 3, \
             3000, 0, 0, 0, '{c}', '{c}', {done})",
            c = ts(created)
        ));
        for seq in 1..=3 {
            let at = ts((created + Duration::seconds(seq * 30)).min(now));
            chunk_rows.push(format!(
                "('{id}-{seq}', '{id}', {seq}, 0, 0, '', 1000, 0, 0, 0, '{at}')"
            ));
        }
        if status == "failed" {
            let at = ts((created + Duration::seconds(90)).min(now));
            event_rows.push(format!(
                "('{id}', 1, 'status', '{{\"reason\":\"x\",\"status\":\"failed\"}}', '{at}')"
            ));
        }
    }
    insert(
        c,
        "INSERT INTO books (id, user_id, title, idea, genre, audience, tone, language, target_pages, status, \
         is_demo, control, fence, version, chunks_total, chunks_done, words, input_tokens, output_tokens, \
         cost_usd, created_at, updated_at, completed_at) VALUES",
        book_rows.into_iter(),
        500,
    )?;
    insert(
        c,
        "INSERT INTO chunks (id, book_id, seq, chapter_index, part_index, text, words, input_tokens, \
         output_tokens, fence, created_at) VALUES",
        chunk_rows.into_iter(),
        500,
    )?;
    insert(
        c,
        "INSERT INTO events (book_id, seq, kind, data, created_at) VALUES",
        event_rows.into_iter(),
        500,
    )?;
    let models = ["claude-sonnet-5-5", "claude-haiku-5", "gpt-4o-mini"];
    let books = a.books;
    insert(
        c,
        "INSERT INTO llm_calls (id, book_id, user_id, purpose, provider, model, input_tokens, output_tokens, \
         cost_usd, latency_ms, status, error_kind, created_at) VALUES",
        (0..a.calls).map(|i| {
            let mut rng = rand::rng();
            let book = rng.random_range(0..books);
            let user = &users[book % users.len()];
            let model = models[i % models.len()];
            let ok = rng.random::<f64>() > 0.03;
            let latency = (rng.random::<f64>().powi(3) * 30_000.0) as i64 + 200;
            let out = rng.random_range(200..4_000);
            let at = ts(now - Duration::seconds(rng.random_range(0..span)));
            format!(
                "('c{i:08}', 'b{book:07}', '{user}', 'chunk', 'anthropic', '{model}', 3000, {out}, {cost}, \
                 {latency}, '{status}', {kind}, '{at}')",
                cost = out as f64 * 0.000015,
                status = if ok { "ok" } else { "error" },
                kind = if ok { "NULL" } else { "'overloaded'" },
            )
        }),
        500,
    )?;
    Ok(users[0].clone())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn time<T>(runs: usize, mut f: impl FnMut() -> anyhow::Result<T>) -> anyhow::Result<(f64, T)> {
    let mut samples = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        last = Some(f()?);
        samples.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    Ok((median(samples), last.context("at least one run")?))
}

/// CPU time (user + system) this process has used, in ms.
fn cpu_ms() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<f64> = after
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    // Fields 14 and 15 (utime, stime) are the 12th and 13th after the command name.
    (f.get(11).unwrap_or(&0.0) + f.get(12).unwrap_or(&0.0)) * 10.0
}

fn main() -> anyhow::Result<()> {
    let a = args()?;
    let base = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let bench = ScratchDb::create(&base, "buko_analytics_bench")?;
    let pool = db::build_pool(bench.url(), 4)?;
    let mut c = pool.get()?;
    db::migrate(&mut c).map_err(anyhow::Error::msg)?;
    println!(
        "backend: {:?}; {} calls, {} books over {} days",
        c.backend(),
        a.calls,
        a.books,
        a.days
    );
    let t = Instant::now();
    let user = seed(&mut c, &a)?;
    println!("seeded in {:.1} s", t.elapsed().as_secs_f64());
    if c.backend() == db::Backend::Postgres {
        c.batch_execute("ANALYZE")?;
    }
    let t = Instant::now();
    rollup::roll(&mut c, db::now())?;
    println!(
        "roll-up back-fill of all history: {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let now = Utc::now();
    let (raw, rows) = time(a.runs.min(3), || {
        let from = (now - Duration::days(30)).naive_utc();
        Ok(buko::db::repo::analytics::compute(
            &mut c,
            900,
            (from, now.naive_utc()),
        )?)
    })?;
    println!("raw aggregate of 30 days (what a report without the roll-up would run): {raw:.0} ms ({} slot rows)", rows.len());
    for range in Range::ADMIN {
        let (ms, r) = time(a.runs, || {
            Ok(analytics::admin_report(
                &mut c,
                range,
                chrono_tz::Europe::Madrid,
                None,
                Utc::now(),
            )?)
        })?;
        let json = serde_json::to_vec(&r)?.len();
        println!(
            "admin report {:>3}: median {ms:.1} ms over {} runs ({} lines, {json} bytes of JSON)",
            range.as_str(),
            a.runs,
            r.series.len()
        );
    }
    let (ms, h) = time(a.runs, || {
        Ok(author::history(
            &mut c,
            &user,
            Range::Month,
            chrono_tz::Europe::Madrid,
            Utc::now(),
        )?)
    })?;
    println!(
        "author history 30d: median {ms:.1} ms ({} books)",
        h.books.len()
    );

    // One live period: gauges of one node, the incremental roll-up, the slots it publishes.
    // Many periods, so the CPU clock (10 ms ticks) resolves the cost of one.
    let periods = 200;
    let cpu0 = cpu_ms();
    let (ms, recent) = time(periods, || {
        let now = db::now();
        let t = now.and_utc().timestamp();
        let backlog = buko::db::repo::analytics::queue_backlog(&mut c, now)?;
        for g in rollup::gauge_rows(t, "bench", 50, 50, &backlog) {
            buko::db::repo::analytics::record_gauge(&mut c, &g)?;
        }
        rollup::roll(&mut c, now)?;
        let rows = rollup::recent(&mut c, t)?;
        Ok(serde_json::to_string(
            &serde_json::json!({"analytics": {"rows": rows}}),
        )?)
    })?;
    let cpu = (cpu_ms() - cpu0) / periods as f64;
    println!(
        "live period: median {ms:.1} ms wall over {periods} periods, {cpu:.2} ms CPU of this process per period ({:.2} % of a core at one period per {} s); message {} bytes",
        cpu / (rollup::PERIOD.as_secs_f64() * 10.0),
        rollup::PERIOD.as_secs(),
        recent.len()
    );
    Ok(())
}
