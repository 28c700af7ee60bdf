//! WebSocket fan-out benchmark (docs/PERFORMANCE.md, "WebSocket fan-out").
//!
//! Two processes, so the server's memory is measured alone:
//! - `ws-bench server`: the real application (`Application::build`: HTTP, `/ws` sessions, the progress
//!   broadcaster) plus a publisher standing in for the engine, which publishes text deltas for B books
//!   at R messages/s through the broadcaster — the path a chunk writer's text takes. Each delta carries
//!   its send time. It creates a user, an API key and the books, and writes them to `bench.json`.
//! - `ws-bench client`: opens N WebSocket subscribers (`?api_key=`), each watching one book, answers
//!   pings, and measures delivery latency (receive time − send time; same machine, same clock) and the
//!   server's RSS from `/proc/<pid>/status` before and after the connections.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use actix::Addr;
use anyhow::Context;
use awc::ws::{Frame, Message};
use buko::db::{self, repo};
use buko_actors::{ProgressBroadcaster, ProgressMessage, Relay};
use clap::{Parser, Subcommand};
use futures_util::{SinkExt, StreamExt};

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Subcommand)]
enum Mode {
    Server {
        #[arg(long, default_value = "127.0.0.1:8099")]
        bind: String,
        #[arg(long, default_value = "/tmp/buko-ws-bench")]
        data_dir: String,
        #[arg(long, default_value_t = 100)]
        books: usize,
        /// Messages per second across all books.
        #[arg(long, default_value_t = 2000)]
        rate: u64,
        /// The publisher's tick: the messages due are sent together each tick (10 gives the bursts
        /// of the first measurements).
        #[arg(long, default_value_t = 1)]
        tick_ms: u64,
    },
    Client {
        #[arg(long, default_value = "http://127.0.0.1:8099")]
        url: String,
        #[arg(long, default_value = "/tmp/buko-ws-bench/bench.json")]
        info: String,
        #[arg(long, default_value_t = 10_000)]
        subscribers: usize,
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// The server's pid, for RSS.
        #[arg(long)]
        server_pid: Option<u32>,
    },
}

fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().mode {
        Mode::Server {
            bind,
            data_dir,
            books,
            rate,
            tick_ms,
        } => actix_web::rt::System::new().block_on(server(bind, data_dir, books, rate, tick_ms)),
        Mode::Client {
            url,
            info,
            subscribers,
            seconds,
            threads,
            server_pid,
        } => client(url, info, subscribers, seconds, threads, server_pid),
    }
}

async fn server(
    bind: String,
    data_dir: String,
    books: usize,
    rate: u64,
    tick_ms: u64,
) -> anyhow::Result<()> {
    let _ = std::fs::remove_dir_all(&data_dir);
    std::fs::create_dir_all(&data_dir)?;
    let mut settings = buko::Settings::from_env()?;
    settings.bind = bind;
    settings.data_dir = data_dir.clone().into();
    settings.database_url = buko::secret::Secret::new(format!("{data_dir}/bench.db"));
    settings.secret_key = Some(buko::secret::Secret::new("x".repeat(40)));
    let url = settings.database_url.expose().to_string();
    // Web only: the books created below would otherwise have their architectures drafted by this
    // node's workers during the run, measuring the offline writer instead of the fan-out.
    let app = buko::Application::build_with(settings, buko::app::NodeRole::WebOnly).await?;
    let broadcaster = app.broadcaster();
    let pool = db::build_pool(&url, 2)?;
    let (key, book_ids) = db::run(&pool, move |c| {
        let user = repo::users::create(
            c,
            repo::users::NewUser {
                email: "bench@example.com",
                password_hash: "-".into(),
                role: "user",
                locale: None,
            },
        )?;
        let (key, _) = repo::api_keys::create(c, &user.id, "bench")?;
        let mut ids = vec![];
        for i in 0..books {
            let input = buko::books::NewBookInput {
                idea: format!("bench {i}"),
                ..Default::default()
            };
            let new = buko::books::validate_new_book(&input).map_err(|e| {
                db::DbError::Query(diesel::result::Error::QueryBuilderError(
                    e.to_string().into(),
                ))
            })?;
            ids.push(repo::books::create(c, &user.id, &new)?.id.into_string());
        }
        Ok((key.expose().to_string(), ids))
    })
    .await?;
    let info = serde_json::json!({"api_key": key, "books": book_ids, "pid": std::process::id()});
    std::fs::write(format!("{data_dir}/bench.json"), info.to_string())?;
    eprintln!(
        "ws-bench server ready: pid {} ({} books, {rate} msg/s)",
        std::process::id(),
        books
    );
    actix_web::rt::spawn(publish(broadcaster, book_ids, rate, tick_ms));
    app.run_until_stopped().await.context("server")
}

/// Publishes `rate` deltas per second round-robin over the books, spread over `tick_ms` ticks (1 by
/// default: a writer's
/// deltas arrive spread in time; 10 ms ticks of 20 made each message wait behind a burst of 200
/// deliveries, which measured the burst, not the path). As relayed deltas
/// (what another node's writer sends through Redis): the broadcaster keeps their text, so a subscriber
/// joining mid-chunk gets a snapshot and then the deltas that continue it (a local `Publish` of a bare
/// delta has no chunk behind it: the session would ask for a snapshot that never comes and hold the
/// deltas back). Same path to the socket, no coalescing window.
async fn publish(
    broadcaster: Addr<ProgressBroadcaster>,
    books: Vec<String>,
    rate: u64,
    tick_ms: u64,
) {
    let mut offsets = vec![0usize; books.len()];
    let mut next = 0usize;
    let mut sent = 0u64;
    let started = Instant::now();
    let mut tick = actix_web::rt::time::interval(Duration::from_millis(tick_ms.max(1)));
    loop {
        tick.tick().await;
        // As many as the rate allows by now (a late tick catches up, the rate holds).
        let due = started.elapsed().as_micros() as u64 * rate / 1_000_000;
        while sent < due {
            sent += 1;
            let text = format!("{:020}", now_micros());
            let i = next % books.len();
            next += 1;
            broadcaster.do_send(Relay(ProgressMessage::Delta {
                book_id: books[i].clone(),
                chunk_seq: 1,
                offset: offsets[i],
                text,
            }));
            offsets[i] += 20;
        }
    }
}

fn rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

struct Shared {
    measuring: std::sync::atomic::AtomicBool,
    connected: std::sync::atomic::AtomicUsize,
    /// Subscribers that received their first message (their subscription is in place).
    ready: std::sync::atomic::AtomicUsize,
    closed: std::sync::atomic::AtomicUsize,
    latencies: Mutex<Vec<u32>>,
}

fn client(
    url: String,
    info: String,
    subscribers: usize,
    seconds: u64,
    threads: usize,
    server_pid: Option<u32>,
) -> anyhow::Result<()> {
    let info: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&info)?)?;
    let key = info["api_key"].as_str().context("api_key")?.to_string();
    let books: Vec<String> = info["books"]
        .as_array()
        .context("books")?
        .iter()
        .filter_map(|b| b.as_str().map(str::to_string))
        .collect();
    let pid = server_pid.or_else(|| info["pid"].as_u64().map(|p| p as u32));
    let ws_url = format!("{}/ws?api_key={key}", url.replacen("http", "ws", 1));
    let shared = Arc::new(Shared {
        measuring: false.into(),
        connected: 0.into(),
        ready: 0.into(),
        closed: 0.into(),
        latencies: Mutex::new(Vec::new()),
    });
    let rss_before = pid.and_then(rss_kb);
    let started = Instant::now();
    let mut handles = vec![];
    for t in 0..threads {
        let (shared, books, ws_url) = (shared.clone(), books.clone(), ws_url.clone());
        let mine: Vec<usize> = (0..subscribers).filter(|i| i % threads == t).collect();
        handles.push(std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let mut tasks = vec![];
                for (n, i) in mine.into_iter().enumerate() {
                    let book = books[i % books.len()].clone();
                    tasks.push(actix_web::rt::spawn(subscriber(
                        ws_url.clone(),
                        book,
                        shared.clone(),
                    )));
                    // Connect in waves so the listen backlog is not overrun.
                    if n % 200 == 199 {
                        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
                    }
                }
                for t in tasks {
                    let _ = t.await;
                }
            })
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(180);
    while shared.connected.load(std::sync::atomic::Ordering::Relaxed) < subscribers
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(200));
    }
    let connected = shared.connected.load(std::sync::atomic::Ordering::Relaxed);
    eprintln!(
        "{connected} subscribers connected in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    // Measure once the subscriptions are in place (each subscribe is an owner check and a replay).
    while shared.ready.load(std::sync::atomic::Ordering::Relaxed) < connected
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(200));
    }
    eprintln!(
        "{} subscribed in {:.1} s",
        shared.ready.load(std::sync::atomic::Ordering::Relaxed),
        started.elapsed().as_secs_f64()
    );
    std::thread::sleep(Duration::from_secs(3));
    let rss_after = pid.and_then(rss_kb);
    shared
        .measuring
        .store(true, std::sync::atomic::Ordering::Relaxed);
    std::thread::sleep(Duration::from_secs(seconds));
    shared
        .measuring
        .store(false, std::sync::atomic::Ordering::Relaxed);
    let mut lat = std::mem::take(&mut *shared.latencies.lock().unwrap_or_else(|p| p.into_inner()));
    lat.sort_unstable();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .map_or(0.0, |v| f64::from(*v) / 1000.0)
    };
    println!(
        "subscribers connected: {connected} / {subscribers}, books: {}",
        books.len()
    );
    println!(
        "deliveries measured: {} in {seconds} s ({:.0}/s)",
        lat.len(),
        lat.len() as f64 / seconds as f64
    );
    println!(
        "latency ms: p50 {:.2}  p95 {:.2}  p99 {:.2}  max {:.2}",
        pct(0.50),
        pct(0.95),
        pct(0.99),
        lat.last().map_or(0.0, |v| f64::from(*v) / 1000.0)
    );
    println!(
        "closed by server during the run: {}",
        shared.closed.load(std::sync::atomic::Ordering::Relaxed)
    );
    if let (Some(b), Some(a)) = (rss_before, rss_after) {
        println!(
            "server RSS: {b} KB before, {a} KB with the subscribers → {:.1} KB per connection",
            (a.saturating_sub(b)) as f64 / connected.max(1) as f64
        );
    }
    std::process::exit(0);
}

async fn subscriber(url: String, book: String, shared: Arc<Shared>) {
    let conn = awc::Client::builder()
        .timeout(Duration::from_secs(60))
        .finish()
        .ws(&url)
        .connect()
        .await;
    let Ok((_, mut conn)) = conn else {
        return;
    };
    let sub = format!(r#"{{"type":"subscribe","book_id":"{book}","after_seq":0}}"#);
    if conn.send(Message::Text(sub.into())).await.is_err() {
        return;
    }
    shared
        .connected
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut batch: Vec<u32> = Vec::new();
    let mut first = true;
    while let Some(frame) = conn.next().await {
        match frame {
            Ok(Frame::Text(t)) => {
                if std::mem::take(&mut first) {
                    shared
                        .ready
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                if std::env::var_os("WS_BENCH_DEBUG").is_some() {
                    eprintln!("{}", String::from_utf8_lossy(&t));
                }
                if !shared.measuring.load(std::sync::atomic::Ordering::Relaxed) {
                    continue;
                }
                // Only the timestamp matters: find it without a full JSON parse.
                let s = String::from_utf8_lossy(&t);
                if let Some(i) = s.find(r#""text":""#) {
                    let digits = &s[i + 8..i + 28];
                    if let Ok(sent) = digits.parse::<u64>() {
                        batch.push(now_micros().saturating_sub(sent).min(u64::from(u32::MAX)) as u32);
                    }
                }
                // Small batches: a subscriber may see only a few messages per second.
                if batch.len() >= 4 {
                    shared
                        .latencies
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .append(&mut batch);
                }
            }
            Ok(Frame::Ping(p)) => {
                let _ = conn.send(Message::Pong(p)).await;
            }
            Ok(Frame::Close(_)) | Err(_) => {
                shared
                    .closed
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                break;
            }
            _ => {}
        }
    }
}
