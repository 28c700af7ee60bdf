//! One load thread: an actix system holding its share of the WebSockets and of the browsing rate.
//! Threads share nothing but the live counters and the phase signals; their figures are merged at the end.

use std::cell::RefCell;
use std::net::{IpAddr, Ipv4Addr};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::watch;

use super::browse::{self, ApiUser, Browse, HttpStats, PageUser};
use super::http;
use super::live::Live;
use super::ws::{self, ConnCtx, ConnSpec, WsStats};

pub struct ShardPlan {
    pub conns: Vec<ConnSpec>,
    pub pages: Vec<PageUser>,
    /// (API key, writing book id) of the polling API clients.
    pub apis: Vec<(String, String)>,
    pub rate: f64,
    pub max_in_flight: usize,
    pub targets: Vec<String>,
    pub source_ips: u8,
}

#[derive(Clone)]
pub struct Signals {
    pub browse_start: watch::Receiver<bool>,
    pub browse_stop: watch::Receiver<bool>,
    pub conns_stop: watch::Receiver<bool>,
}

pub struct ShardOut {
    pub ws: WsStats,
    pub http: HttpStats,
}

pub fn spawn(
    plan: ShardPlan,
    signals: Signals,
    live: Arc<Live>,
    t0: Instant,
) -> std::thread::JoinHandle<ShardOut> {
    std::thread::spawn(move || actix_web::rt::System::new().block_on(run(plan, signals, live, t0)))
}

async fn run(plan: ShardPlan, signals: Signals, live: Arc<Live>, t0: Instant) -> ShardOut {
    let sources = plan.source_ips.max(1);
    let clients = (0..sources)
        .map(|k| {
            let ip = (sources > 1).then(|| IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1 + k)));
            http::client(0, ip)
        })
        .collect();
    let ctx = Rc::new(ConnCtx {
        clients,
        targets: plan.targets.clone(),
        stats: RefCell::new(WsStats::default()),
        live: live.clone(),
        t0,
    });
    let handles: Vec<_> = plan
        .conns
        .into_iter()
        .enumerate()
        .map(|(i, spec)| {
            actix_web::rt::spawn(ws::run(spec, ctx.clone(), i, signals.conns_stop.clone()))
        })
        .collect();
    let b = Rc::new(Browse {
        client: http::client(plan.max_in_flight, None),
        targets: plan.targets,
        pages: plan.pages,
        apis: plan
            .apis
            .into_iter()
            .map(|(api_key, book_id)| ApiUser {
                api_key,
                book_id,
                cursor: std::cell::Cell::new(0),
            })
            .collect(),
        rate: plan.rate,
        max_in_flight: plan.max_in_flight,
        stats: RefCell::new(HttpStats::default()),
        live,
    });
    let (b2, mut start, stop) = (b.clone(), signals.browse_start, signals.browse_stop);
    let browsing = actix_web::rt::spawn(async move {
        while !*start.borrow() {
            if start.changed().await.is_err() {
                return;
            }
        }
        browse::run(b2, stop).await;
    });
    for h in handles {
        let _ = h.await;
    }
    let _ = browsing.await;
    let ws = ctx.stats.take();
    let http = b.stats.take();
    ShardOut { ws, http }
}
