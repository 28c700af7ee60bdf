//! HTTP browsing at a fixed total rate, open loop: requests are started on a clock, not after the
//! previous answer, so a slow server shows up as latency instead of as a lower rate (no coordinated
//! omission). When `max_in_flight` requests are already waiting, the tick is counted as skipped.
//! The mix, in turn: library page, book page (session cookie), book list, book detail and events API
//! (`X-API-Key`, on the writing books, the events cursor advancing as a polling client's would).

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::watch;

use super::hist::Histogram;
use super::live::Live;

pub const ROUTES: [&str; 5] = [
    "GET /books (page)",
    "GET /books/{id} (page)",
    "GET /api/v1/books",
    "GET /api/v1/books/{id}",
    "GET /api/v1/books/{id}/events",
];

/// A logged-in account that browses pages.
#[derive(Clone, Debug)]
pub struct PageUser {
    pub cookie: String,
    pub book_id: String,
}

/// An API client polling a writing book.
#[derive(Debug)]
pub struct ApiUser {
    pub api_key: String,
    pub book_id: String,
    pub cursor: Cell<i64>,
}

#[derive(Clone, Debug, Default)]
pub struct RouteStats {
    pub latency: Histogram,
    pub ok: u64,
    pub errors: u64,
    pub statuses: BTreeMap<String, u64>,
}

#[derive(Clone, Debug, Default)]
pub struct HttpStats {
    pub routes: BTreeMap<String, RouteStats>,
    pub scheduled: u64,
    pub skipped: u64,
    /// Requests started more than 10 ms after their tick (the load thread itself was behind).
    pub late: u64,
    pub elapsed: Duration,
}

impl HttpStats {
    pub fn merge(&mut self, o: &HttpStats) {
        for (k, r) in &o.routes {
            let m = self.routes.entry(k.clone()).or_default();
            m.latency.merge(&r.latency);
            m.ok += r.ok;
            m.errors += r.errors;
            for (s, n) in &r.statuses {
                *m.statuses.entry(s.clone()).or_default() += n;
            }
        }
        self.scheduled += o.scheduled;
        self.skipped += o.skipped;
        self.late += o.late;
        self.elapsed = self.elapsed.max(o.elapsed);
    }
}

pub struct Browse {
    pub client: awc::Client,
    pub targets: Vec<String>,
    pub pages: Vec<PageUser>,
    pub apis: Vec<ApiUser>,
    pub rate: f64,
    pub max_in_flight: usize,
    pub stats: RefCell<HttpStats>,
    pub live: Arc<Live>,
}

/// Runs until `stop` turns true, then waits (at most 30 s) for the requests in flight.
pub async fn run(b: Rc<Browse>, mut stop: watch::Receiver<bool>) {
    if b.rate <= 0.0 || (b.pages.is_empty() && b.apis.is_empty()) {
        return;
    }
    let period = Duration::from_secs_f64(1.0 / b.rate);
    let started = Instant::now();
    let in_flight = Rc::new(Cell::new(0usize));
    let mut next = tokio::time::Instant::now();
    let mut i = 0usize;
    loop {
        tokio::select! {
            () = tokio::time::sleep_until(next) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            break;
        }
        let late = tokio::time::Instant::now().saturating_duration_since(next);
        next += period;
        let mut s = b.stats.borrow_mut();
        s.scheduled += 1;
        if late > Duration::from_millis(10) {
            s.late += 1;
        }
        if in_flight.get() >= b.max_in_flight {
            s.skipped += 1;
            continue;
        }
        drop(s);
        in_flight.set(in_flight.get() + 1);
        let (b2, flight) = (b.clone(), in_flight.clone());
        actix_web::rt::spawn(async move {
            one(&b2, i).await;
            flight.set(flight.get() - 1);
        });
        i += 1;
    }
    b.stats.borrow_mut().elapsed = started.elapsed();
    let deadline = Instant::now() + Duration::from_secs(30);
    while in_flight.get() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn one(b: &Browse, i: usize) {
    let mut route = i % ROUTES.len();
    if route < 2 && b.pages.is_empty() {
        route += 2;
    } else if route >= 2 && b.apis.is_empty() {
        route %= 2;
    }
    let n = i / ROUTES.len();
    let base = &b.targets[n % b.targets.len()];
    let (req, poller) = if route < 2 {
        let u = &b.pages[n % b.pages.len()];
        let path = if route == 0 {
            "/books".to_string()
        } else {
            format!("/books/{}", u.book_id)
        };
        (
            b.client
                .get(format!("{base}{path}"))
                .insert_header(("cookie", u.cookie.as_str())),
            None,
        )
    } else {
        let u = &b.apis[n % b.apis.len()];
        let path = match route {
            2 => "/api/v1/books".to_string(),
            3 => format!("/api/v1/books/{}", u.book_id),
            _ => format!(
                "/api/v1/books/{}/events?after={}",
                u.book_id,
                u.cursor.get()
            ),
        };
        let req = b
            .client
            .get(format!("{base}{path}"))
            .insert_header(("x-api-key", u.api_key.as_str()));
        (req, (route == 4).then_some(u))
    };
    let t = Instant::now();
    let outcome = match req.send().await {
        Ok(mut res) => {
            let status = res.status().as_u16();
            match res.body().limit(16 * 1024 * 1024).await {
                Ok(body) => {
                    if let Some(u) = poller.filter(|_| status == 200) {
                        advance(u, &body);
                    }
                    Ok(status)
                }
                Err(e) => Err(format!("body: {e}")),
            }
        }
        Err(e) => Err(format!("{e}")),
    };
    let us = t.elapsed().as_micros() as u64;
    b.live.requests.fetch_add(1, Ordering::Relaxed);
    let mut s = b.stats.borrow_mut();
    let r = s.routes.entry(ROUTES[route].to_string()).or_default();
    match outcome {
        Ok(status) if status < 400 => {
            r.ok += 1;
            r.latency.record(us);
            *r.statuses.entry(status.to_string()).or_default() += 1;
        }
        Ok(status) => {
            r.errors += 1;
            b.live.request_errors.fetch_add(1, Ordering::Relaxed);
            *r.statuses.entry(status.to_string()).or_default() += 1;
        }
        Err(e) => {
            r.errors += 1;
            b.live.request_errors.fetch_add(1, Ordering::Relaxed);
            let key: String = e.chars().take(60).collect();
            *r.statuses.entry(key).or_default() += 1;
        }
    }
}

/// Moves a poller's cursor to the last event it was given.
fn advance(u: &ApiUser, body: &[u8]) {
    if let Ok(Value::Array(events)) = serde_json::from_slice::<Value>(body) {
        if let Some(seq) = events
            .last()
            .and_then(|e| e.get("seq"))
            .and_then(Value::as_i64)
        {
            u.cursor.set(seq);
        }
    }
}
