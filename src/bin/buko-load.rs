//! `buko-load`: the 10,000-user load test (issue 9). It seeds accounts, creates and architects the
//! writing books through the REST API, then:
//! 1. ramp-up: opens every user's WebSocket (each subscribed to one of the user's books);
//! 2. hold: approves the writing books (they stream from the LLM the nodes point at) and browses at a
//!    fixed request rate, sampling the server processes;
//! 3. drain: waits for the writing books to complete; ramp-down: closes the sockets;
//! 4. verifies the books from what the server committed, prints the table and exits non-zero when a
//!    threshold of the issue fails. Every loop is bounded in time; the program stops by itself.
//!
//! Run it through `scripts/loadtest.sh`, which starts the services; figures go to docs/PERFORMANCE.md.

mod load;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use tokio::sync::watch;

use load::args::Args;
use load::books::{self, WritingBook};
use load::browse::PageUser;
use load::live::Live;
use load::nodes::{Mark, Node};
use load::report::Report;
use load::shard::{self, ShardOut, Signals};
use load::ws::WsStats;
use load::{delivery, http, plan, procstat, setup};

fn main() {
    let args = Args::parse();
    buko::llm::init_tls();
    let code = match actix_web::rt::System::new().block_on(run(args)) {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(e) => {
            eprintln!("buko-load: {e:#}");
            2
        }
    };
    std::process::exit(code);
}

fn say(t0: Instant, msg: &str) {
    eprintln!("[{:>6.1}s] {msg}", t0.elapsed().as_secs_f64());
}

/// Runs the whole test; `Ok(false)` when a threshold failed.
async fn run(args: Args) -> anyhow::Result<bool> {
    let t0 = Instant::now();
    anyhow::ensure!(!args.targets.is_empty(), "give at least one --target");
    let tag = args
        .run_tag
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string()[..8].to_string());
    let w = args.effective_watchers();
    let writers = args.books;
    let idle = args.users.saturating_sub(writers * w);
    say(
        t0,
        &format!("seeding {writers} writer + {idle} idle accounts (tag {tag})"),
    );
    let accounts = setup::seed(&args.database_url, &tag, writers, idle).await?;
    let (writer_accounts, idle_accounts) = accounts.split_at(writers);
    let client = http::client(64, None);

    let writing = writing_books(&args, &client, writer_accounts, t0).await?;
    anyhow::ensure!(
        writers == 0 || !writing.is_empty(),
        "no writing book reached architecture_ready"
    );

    let pages = login_browsers(&client, &args, idle_accounts, t0).await?;
    let plan = plan::build(&args, idle_accounts, &writing, pages);
    let mut nodes: Vec<Node> = args
        .server_pids
        .iter()
        .enumerate()
        .map(|(i, pid)| Node::new(*pid, args.targets.get(i).cloned().unwrap_or_default()))
        .collect();
    mark(&mut nodes, Mark::Base);

    let live = Arc::new(Live::default());
    let (browse_start_tx, browse_start) = watch::channel(false);
    let (browse_stop_tx, browse_stop) = watch::channel(false);
    let (conns_stop_tx, conns_stop) = watch::channel(false);
    let signals = Signals {
        browse_start,
        browse_stop,
        conns_stop,
    };
    say(
        t0,
        &format!(
            "ramp-up: {} WebSockets over {} s on {:?}",
            plan.total_conns, args.ramp_up, plan.conns_per_target
        ),
    );
    let handles: Vec<_> = plan
        .shards
        .into_iter()
        .map(|s| shard::spawn(s, signals.clone(), live.clone(), t0))
        .collect();
    let mut peak = 0i64;
    let ramp_end = Instant::now() + args.ramp_up() + Duration::from_secs(30);
    loop {
        tokio::time::sleep(Duration::from_secs(5)).await;
        let open = live.open.load(Ordering::Relaxed);
        peak = peak.max(open);
        progress(t0, "ramp-up", &live);
        if open as usize >= plan.total_conns || Instant::now() > ramp_end {
            break;
        }
    }

    mark(&mut nodes, Mark::HoldStart);
    let self_start = procstat::sample(std::process::id());
    say(
        t0,
        &format!(
            "hold: approving {} books, browsing at {} req/s for {} s",
            writing.len(),
            args.rate,
            args.hold
        ),
    );
    let approvals = books::approve_all(&client, &args.targets, &writing).await;
    let _ = browse_start_tx.send(true);
    let hold_start = Instant::now();
    let mut early_marked = false;
    while hold_start.elapsed() < args.hold() {
        let left = args.hold().saturating_sub(hold_start.elapsed());
        tokio::time::sleep(left.min(Duration::from_secs(5))).await;
        if !early_marked && hold_start.elapsed() >= Duration::from_secs(15) {
            mark(&mut nodes, Mark::HoldEarly);
            early_marked = true;
        }
        peak = peak.max(live.open.load(Ordering::Relaxed));
        progress(t0, "hold", &live);
    }
    if !early_marked {
        mark(&mut nodes, Mark::HoldEarly);
    }
    mark(&mut nodes, Mark::HoldEnd);
    let load_cores = match (self_start, procstat::sample(std::process::id())) {
        (Some(a), Some(b)) => procstat::cores(&a, &b),
        _ => 0.0,
    };
    let open_at_hold_end = live.open.load(Ordering::Relaxed);
    let _ = browse_stop_tx.send(true);

    say(t0, "drain: waiting for the writing books to finish");
    let done = ["completed", "failed", "cancelled"];
    books::wait_until(
        &client,
        &args.targets,
        &writing,
        &done,
        Duration::from_secs(args.drain_timeout),
        "drain",
    )
    .await;
    say(
        t0,
        &format!("ramp-down: closing WebSockets over {} s", args.ramp_down),
    );
    let _ = conns_stop_tx.send(true);
    let outs = join(handles, &live, t0).await;
    say(t0, "verifying the books");
    let verification = books::verify(&client, &args.targets, &writing).await;

    let mut ws = WsStats::default();
    let mut http_stats = load::browse::HttpStats::default();
    let mut events = Vec::new();
    let mut deltas = Vec::new();
    for o in outs {
        merge_ws(&mut ws, o.ws, &mut events, &mut deltas);
        http_stats.merge(&o.http);
    }
    let report = Report {
        setup: format!(
            "{} users ({} watching {} writing books × {w}, {} on idle drafts) on {} node(s); {} req/s browsing; hold {} s; {} load threads",
            args.users, writing.len() * w, writing.len(), idle_accounts.len(), args.targets.len(), args.rate, args.hold, args.threads
        ),
        delivery: delivery::compute(&events, &mut deltas),
        ws,
        planned_conns: plan.total_conns,
        peak_open: peak,
        open_at_hold_end,
        http: http_stats,
        rate_target: args.rate,
        nodes: nodes.iter().enumerate().map(|(i, n)| n.figures(plan.conns_per_target.get(i).copied().unwrap_or(0))).collect(),
        load_cores,
        books: verification,
        approvals,
        max_kib_per_conn: args.max_kib_per_conn,
        max_growth_mib: args.max_growth_mib,
        multi_node: args.targets.len() > 1,
    };
    println!("{}", report.markdown());
    let checks = report.checks();
    println!("| threshold | result |\n|---|---|");
    for (name, ok) in &checks {
        println!("| {name} | {} |", if *ok { "pass" } else { "**FAIL**" });
    }
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&report.json())?)
            .context("write --json")?;
    }
    say(t0, "done");
    Ok(checks.iter().all(|(_, ok)| *ok))
}

/// The writing books, `architecture_ready`: seeded, or created through the API and drafted by the LLM.
async fn writing_books(
    args: &Args,
    client: &awc::Client,
    owners: &[setup::Account],
    t0: Instant,
) -> anyhow::Result<Vec<WritingBook>> {
    let n = args.targets.len();
    let pages = args.target_pages;
    if !args.architect_via_llm {
        say(
            t0,
            &format!(
                "seeding {} architecture_ready books ({pages} pages each)",
                owners.len()
            ),
        );
        let ids = setup::seed_ready_books(&args.database_url, owners, pages).await?;
        return Ok(ids
            .into_iter()
            .zip(owners)
            .enumerate()
            .map(|(i, (id, a))| WritingBook {
                id,
                api_key: a.api_key.clone(),
                target: i % n,
            })
            .collect());
    }
    say(
        t0,
        &format!(
            "creating {} books through the API ({pages} pages each)",
            owners.len()
        ),
    );
    let keys: Vec<String> = owners.iter().map(|a| a.api_key.clone()).collect();
    let created = books::create_all(client, &args.targets, &keys, pages).await?;
    let done = ["architecture_ready", "failed", "cancelled"];
    let timeout = Duration::from_secs(args.setup_timeout);
    let st = books::wait_until(
        client,
        &args.targets,
        &created,
        &done,
        timeout,
        "architectures",
    )
    .await;
    let (ready, not_ready): (Vec<_>, Vec<_>) = created
        .into_iter()
        .zip(st)
        .partition(|(_, s)| s == "architecture_ready");
    if !not_ready.is_empty() {
        say(
            t0,
            &format!("{} books did not reach architecture_ready", not_ready.len()),
        );
    }
    Ok(ready.into_iter().map(|(b, _)| b).collect())
}

fn mark(nodes: &mut [Node], m: Mark) {
    for n in nodes {
        n.mark(m);
    }
}

fn progress(t0: Instant, phase: &str, live: &Live) {
    say(
        t0,
        &format!(
            "{phase}: open {} · unexpected closes {} · frames {} · requests {} (errors {})",
            live.open.load(Ordering::Relaxed),
            live.unexpected.load(Ordering::Relaxed),
            live.frames.load(Ordering::Relaxed),
            live.requests.load(Ordering::Relaxed),
            live.request_errors.load(Ordering::Relaxed),
        ),
    );
}

/// Logs `args.browsers` idle users in (the pages need a session), 8 at a time.
async fn login_browsers(
    client: &awc::Client,
    args: &Args,
    idle: &[setup::Account],
    t0: Instant,
) -> anyhow::Result<Vec<PageUser>> {
    use futures_util::StreamExt;
    let n = args.browsers.min(idle.len());
    say(t0, &format!("logging {n} browsing users in"));
    let jobs = idle[..n].iter().enumerate().map(|(i, a)| async move {
        let base = &args.targets[i % args.targets.len()];
        let cookie = http::login(client, base, &a.email, setup::PASSWORD).await?;
        Ok::<_, anyhow::Error>(PageUser {
            cookie,
            book_id: a.idle_book.clone().unwrap_or_default(),
        })
    });
    let res: Vec<_> = futures_util::stream::iter(jobs).buffered(8).collect().await;
    res.into_iter().collect()
}

/// Waits for the load threads (bounded: ramp-down plus a minute), printing progress.
async fn join(
    handles: Vec<std::thread::JoinHandle<ShardOut>>,
    live: &Live,
    t0: Instant,
) -> Vec<ShardOut> {
    let deadline = Instant::now() + Duration::from_secs(600);
    while handles.iter().any(|h| !h.is_finished()) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_secs(2)).await;
        progress(t0, "ramp-down", live);
    }
    handles
        .into_iter()
        .filter(|h| h.is_finished())
        .filter_map(|h| h.join().ok())
        .collect()
}

fn merge_ws(
    into: &mut WsStats,
    o: WsStats,
    events: &mut Vec<load::ws::EventObs>,
    deltas: &mut Vec<load::ws::DeltaObs>,
) {
    into.connects += o.connects;
    into.connect_failures += o.connect_failures;
    into.unexpected_disconnects += o.unexpected_disconnects;
    for (k, v) in o.frames {
        *into.frames.entry(k).or_default() += v;
    }
    for (k, v) in o.disconnect_reasons {
        *into.disconnect_reasons.entry(k).or_default() += v;
    }
    for (k, v) in o.error_codes {
        *into.error_codes.entry(k).or_default() += v;
    }
    into.connect_time.merge(&o.connect_time);
    into.defects.merge(&o.defects);
    events.extend(o.events);
    deltas.extend(o.deltas);
}
