//! The writing books, through the REST API as an integrator drives them: create (an architecture job),
//! wait for `architecture_ready`, approve, follow to `completed`, and at the end verify from the events
//! and chapters what was committed: every planned chunk completed exactly once, and the words add up.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use awc::http::Method;
use futures_util::StreamExt;
use serde_json::{json, Value};

use super::http::api;

#[derive(Clone, Debug)]
pub struct WritingBook {
    pub id: String,
    pub api_key: String,
    pub target: usize,
}

/// The final check of the writing books.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Verification {
    pub books: usize,
    pub completed: usize,
    pub not_completed: BTreeMap<String, usize>,
    pub chunks_planned: u64,
    pub chunks_completed: u64,
    pub chunks_lost: u64,
    pub chunks_duplicated: u64,
    /// Books whose chapters' words differ from the book's word count.
    pub word_mismatches: u64,
    pub errors: Vec<String>,
}

const PARALLEL: usize = 16;

/// Creates one book per writer account (spread over the targets).
pub async fn create_all(
    client: &awc::Client,
    targets: &[String],
    keys: &[String],
    pages: u32,
) -> anyhow::Result<Vec<WritingBook>> {
    let jobs = keys.iter().enumerate().map(|(i, key)| async move {
        let target = i % targets.len();
        let body = json!({
            "idea": format!("A load-test novel number {i} about lighthouse keepers who trade letters across a stormy archipelago"),
            "genre": "literary fiction",
            "language": "en",
            "target_pages": pages,
        });
        let url = format!("{}/api/v1/books", targets[target]);
        let (status, v) = api(client, Method::POST, &url, key, Some(&body)).await?;
        let id = v.get("id").and_then(Value::as_str).filter(|_| status == 202);
        let id = id.ok_or_else(|| anyhow::anyhow!("POST /api/v1/books answered {status}: {v}"))?;
        Ok::<_, anyhow::Error>(WritingBook { id: id.to_string(), api_key: key.clone(), target })
    });
    let results: Vec<_> = futures_util::stream::iter(jobs)
        .buffered(PARALLEL)
        .collect()
        .await;
    results.into_iter().collect()
}

/// Statuses of the books, polled (in parallel) from the API.
pub async fn statuses(
    client: &awc::Client,
    targets: &[String],
    books: &[WritingBook],
) -> Vec<String> {
    let jobs = books.iter().map(|b| async move {
        let url = format!("{}/api/v1/books/{}", targets[b.target], b.id);
        match api(client, Method::GET, &url, &b.api_key, None).await {
            Ok((200, v)) => v
                .get("status")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_string(),
            Ok((s, _)) => format!("http {s}"),
            Err(_) => "unreachable".to_string(),
        }
    });
    futures_util::stream::iter(jobs)
        .buffered(PARALLEL)
        .collect()
        .await
}

/// Waits until every book is in one of the `done` statuses; returns the last statuses. An unreadable
/// status (a refused or failed request) counts as not done.
pub async fn wait_until(
    client: &awc::Client,
    targets: &[String],
    books: &[WritingBook],
    done: &[&str],
    timeout: Duration,
    label: &str,
) -> Vec<String> {
    let start = Instant::now();
    loop {
        let st = statuses(client, targets, books).await;
        let waiting = st.iter().filter(|s| !done.contains(&s.as_str())).count();
        if waiting == 0 || start.elapsed() > timeout {
            return st;
        }
        let mut by: BTreeMap<&str, usize> = BTreeMap::new();
        for s in st.iter().filter(|s| !done.contains(&s.as_str())) {
            *by.entry(s.as_str()).or_default() += 1;
        }
        eprintln!(
            "[{:>5.0}s] {label}: {waiting} of {} books not yet {done:?}: {by:?}",
            start.elapsed().as_secs_f64(),
            books.len()
        );
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
}

/// What approving the books took.
#[derive(Clone, Debug, Default)]
pub struct Approvals {
    /// Answers other than 202 that were retried (a client retries a 5xx or a 429 after a pause).
    pub retried: BTreeMap<String, usize>,
    /// Books never approved after the retries.
    pub refused: usize,
}

/// Approves every book, retrying an answer other than 202 up to 5 times, 1 s apart.
pub async fn approve_all(
    client: &awc::Client,
    targets: &[String],
    books: &[WritingBook],
) -> Approvals {
    let jobs = books.iter().map(|b| async move {
        let url = format!("{}/api/v1/books/{}/approve", targets[b.target], b.id);
        let mut retried = Vec::new();
        for attempt in 0..6 {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            match api(client, Method::POST, &url, &b.api_key, None).await {
                Ok((202, _)) => return (retried, 0),
                Ok((s, v)) => retried.push(format!("{s} {}", v["message"].as_str().unwrap_or(""))),
                Err(e) => retried.push(e.to_string().chars().take(60).collect()),
            }
        }
        (retried, 1)
    });
    let results: Vec<_> = futures_util::stream::iter(jobs)
        .buffered(PARALLEL)
        .collect()
        .await;
    let mut a = Approvals::default();
    for (retried, refused) in results {
        for r in retried {
            *a.retried.entry(r).or_default() += 1;
        }
        a.refused += refused;
    }
    a
}

async fn all_events(
    client: &awc::Client,
    base: &str,
    b: &WritingBook,
) -> anyhow::Result<Vec<Value>> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let url = format!("{base}/api/v1/books/{}/events?after={after}", b.id);
        let (status, v) = api(client, Method::GET, &url, &b.api_key, None).await?;
        let Value::Array(page) = v else {
            anyhow::bail!("events of {}: {status}", b.id);
        };
        let n = page.len();
        if let Some(seq) = page.last().and_then(|e| e["seq"].as_i64()) {
            after = seq;
        }
        out.extend(page);
        if n < 1000 {
            return Ok(out);
        }
    }
}

/// Checks every writing book from what the server committed.
pub async fn verify(
    client: &awc::Client,
    targets: &[String],
    books: &[WritingBook],
) -> Verification {
    let mut v = Verification {
        books: books.len(),
        ..Verification::default()
    };
    for b in books {
        let base = &targets[b.target];
        let detail = api(
            client,
            Method::GET,
            &format!("{base}/api/v1/books/{}", b.id),
            &b.api_key,
            None,
        )
        .await;
        let Ok((200, d)) = detail else {
            v.errors.push(format!("book {}: detail unreadable", b.id));
            continue;
        };
        let status = d["status"].as_str().unwrap_or("?").to_string();
        if status == "completed" {
            v.completed += 1;
        } else {
            *v.not_completed.entry(status).or_default() += 1;
        }
        let planned = d["progress"]["chunks_total"].as_u64().unwrap_or(0);
        v.chunks_planned += planned;
        let events = match all_events(client, base, b).await {
            Ok(e) => e,
            Err(e) => {
                v.errors.push(e.to_string());
                continue;
            }
        };
        let mut seen: BTreeMap<i64, u64> = BTreeMap::new();
        for e in events.iter().filter(|e| e["kind"] == "chunk_completed") {
            *seen
                .entry(e["data"]["seq"].as_i64().unwrap_or(-1))
                .or_default() += 1;
        }
        v.chunks_completed += seen.len() as u64;
        v.chunks_lost += planned.saturating_sub(seen.len() as u64);
        v.chunks_duplicated += seen.values().map(|n| n - 1).sum::<u64>();
        let chapters = api(
            client,
            Method::GET,
            &format!("{base}/api/v1/books/{}/chapters", b.id),
            &b.api_key,
            None,
        )
        .await;
        if let Ok((200, Value::Array(chs))) = chapters {
            let words: u64 = chs.iter().map(|c| c["words"].as_u64().unwrap_or(0)).sum();
            if words != d["progress"]["words"].as_u64().unwrap_or(0) {
                v.word_mismatches += 1;
            }
        } else {
            v.errors.push(format!("book {}: chapters unreadable", b.id));
        }
    }
    v
}
