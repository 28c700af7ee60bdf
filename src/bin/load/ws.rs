//! One simulated user's WebSocket: connect (`?api_key=`), subscribe to one book, answer pings, read
//! until told to stop, and reconnect with `after_seq` after an unexpected close — which is counted,
//! since the target is zero. Watchers of a writing book also check the stream ([`super::stream`]) and
//! timestamp what arrives.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use awc::ws::{CloseCode, CloseReason, Frame, Message};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::watch;

use super::hist::Histogram;
use super::live::Live;
use super::stream::{Defects, Stream};

/// Who this connection is and what it watches.
#[derive(Clone, Debug)]
pub struct ConnSpec {
    pub api_key: String,
    pub book_id: String,
    /// The writing book's slot when this is a watcher of a writing book.
    pub slot: Option<u32>,
    pub target: usize,
    /// Delay from the start of the ramp-up before connecting, and from the stop signal before closing.
    pub open_after: Duration,
    pub close_after: Duration,
}

/// An event's delivery latency at one watcher: arrival (wall clock) minus the event's `at`.
#[derive(Clone, Copy, Debug)]
pub struct EventObs {
    pub slot: u32,
    pub node: u8,
    pub latency_us: i64,
    /// Arrival, whole seconds since the load started (to see whether slow events come together).
    pub at_s: u32,
    pub kind: &'static str,
}

/// The event kinds the report breaks slow events down by; any other kind counts as "other".
const KINDS: [&str; 5] = [
    "status",
    "chunk_started",
    "chunk_completed",
    "chapter_completed",
    "book_completed",
];

/// `kind` as one of [`KINDS`] (a `&'static str`, so an observation stays `Copy`), else "other".
pub fn event_kind(kind: &str) -> &'static str {
    KINDS.into_iter().find(|k| *k == kind).unwrap_or("other")
}

/// A delta's arrival at one watcher, to compare arrivals of the same delta across watchers.
#[derive(Clone, Copy, Debug)]
pub struct DeltaObs {
    pub slot: u32,
    pub chunk: u32,
    pub offset: u32,
    pub node: u8,
    pub at_us: u64,
}

#[derive(Debug, Default)]
pub struct WsStats {
    pub connects: u64,
    pub connect_failures: u64,
    pub unexpected_disconnects: u64,
    pub frames: BTreeMap<String, u64>,
    pub disconnect_reasons: BTreeMap<String, u64>,
    pub error_codes: BTreeMap<String, u64>,
    pub connect_time: Histogram,
    pub defects: Defects,
    pub events: Vec<EventObs>,
    pub deltas: Vec<DeltaObs>,
}

/// What every connection of a thread shares.
pub struct ConnCtx {
    pub clients: Vec<awc::Client>,
    pub targets: Vec<String>,
    pub stats: RefCell<WsStats>,
    pub live: Arc<Live>,
    pub t0: Instant,
}

enum End {
    Stopped,
    Lost(String),
}

fn bump(map: &mut BTreeMap<String, u64>, k: &str) {
    *map.entry(k.to_string()).or_default() += 1;
}

fn now_us(t0: Instant) -> u64 {
    t0.elapsed().as_micros() as u64
}

/// Arrival minus the event's `at`, for events stored after `since` (replayed history is not a delivery).
fn latency_us(msg: &Value, since: chrono::DateTime<chrono::Utc>) -> Option<i64> {
    let at = msg.get("at")?.as_str()?;
    let at = chrono::DateTime::parse_from_rfc3339(at)
        .ok()?
        .with_timezone(&chrono::Utc);
    if at < since {
        return None;
    }
    (chrono::Utc::now() - at).num_microseconds()
}

pub async fn run(spec: ConnSpec, ctx: Rc<ConnCtx>, idx: usize, mut stop: watch::Receiver<bool>) {
    tokio::time::sleep(spec.open_after).await;
    let mut stream = spec.slot.map(|_| Stream::default());
    let client = &ctx.clients[idx % ctx.clients.len()];
    let url = format!("{}/ws?api_key={}", ctx.targets[spec.target], spec.api_key);
    let mut failures = 0u32;
    loop {
        if *stop.borrow() {
            return;
        }
        let started = Instant::now();
        let connected = client
            .ws(url.as_str())
            .max_frame_size(1 << 20)
            .connect()
            .await;
        let (_, mut framed) = match connected {
            Ok(c) => c,
            Err(e) => {
                failures += 1;
                {
                    let mut s = ctx.stats.borrow_mut();
                    s.connect_failures += 1;
                    bump(&mut s.disconnect_reasons, &format!("connect: {e}"));
                }
                let backoff = Duration::from_millis(250 * u64::from(failures.min(20)));
                tokio::time::sleep(backoff).await;
                continue;
            }
        };
        failures = 0;
        {
            let mut s = ctx.stats.borrow_mut();
            s.connects += 1;
            s.connect_time.record(started.elapsed().as_micros() as u64);
        }
        ctx.live.open.fetch_add(1, Ordering::Relaxed);
        let after = stream.as_ref().map_or(0, |s| s.last_seq);
        let since = chrono::Utc::now();
        let sub = json!({"type": "subscribe", "book_id": spec.book_id, "after_seq": after});
        let mut end = match framed.send(Message::Text(sub.to_string().into())).await {
            Ok(()) => None,
            Err(e) => Some(End::Lost(format!("send subscribe: {e}"))),
        };
        let close_timer = tokio::time::sleep(Duration::from_secs(365 * 24 * 3600));
        tokio::pin!(close_timer);
        let mut stopping = *stop.borrow();
        if stopping {
            close_timer
                .as_mut()
                .reset(tokio::time::Instant::now() + spec.close_after);
        }
        while end.is_none() {
            tokio::select! {
                changed = stop.changed(), if !stopping => {
                    if changed.is_err() || *stop.borrow() {
                        stopping = true;
                        close_timer.as_mut().reset(tokio::time::Instant::now() + spec.close_after);
                    }
                }
                () = &mut close_timer => end = Some(End::Stopped),
                frame = framed.next() => match frame {
                    Some(Ok(Frame::Text(b))) => on_text(&b, &spec, &ctx, stream.as_mut(), since),
                    Some(Ok(Frame::Ping(p))) => {
                        bump(&mut ctx.stats.borrow_mut().frames, "ping");
                        if let Err(e) = framed.send(Message::Pong(p)).await {
                            end = Some(End::Lost(format!("send pong: {e}")));
                        }
                    }
                    Some(Ok(Frame::Close(reason))) => {
                        let r = reason.and_then(|r| r.description).unwrap_or_default();
                        end = Some(End::Lost(format!("server closed: {r}")));
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => end = Some(End::Lost(format!("protocol: {e}"))),
                    None => end = Some(End::Lost("connection closed".into())),
                }
            }
        }
        ctx.live.open.fetch_sub(1, Ordering::Relaxed);
        match end {
            Some(End::Lost(reason)) => {
                ctx.live.unexpected.fetch_add(1, Ordering::Relaxed);
                {
                    let mut s = ctx.stats.borrow_mut();
                    s.unexpected_disconnects += 1;
                    bump(&mut s.disconnect_reasons, &reason);
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            _ => {
                let close = CloseReason {
                    code: CloseCode::Normal,
                    description: None,
                };
                let _ = framed.send(Message::Close(Some(close))).await;
                let _ = framed.close().await;
                return;
            }
        }
    }
}

fn on_text(
    bytes: &[u8],
    spec: &ConnSpec,
    ctx: &ConnCtx,
    stream: Option<&mut Stream>,
    since: chrono::DateTime<chrono::Utc>,
) {
    ctx.live.frames.fetch_add(1, Ordering::Relaxed);
    let Ok(msg) = serde_json::from_slice::<Value>(bytes) else {
        bump(&mut ctx.stats.borrow_mut().frames, "unparsable");
        return;
    };
    let ty = msg.get("type").and_then(Value::as_str).unwrap_or("?");
    let mut s = ctx.stats.borrow_mut();
    bump(&mut s.frames, ty);
    if ty == "error" {
        let code = msg.get("code").and_then(Value::as_str).unwrap_or("?");
        bump(&mut s.error_codes, code);
    }
    let (Some(stream), Some(slot)) = (stream, spec.slot) else {
        return;
    };
    let node = spec.target as u8;
    let s = &mut *s;
    match ty {
        "event" => {
            if let Some(latency_us) = latency_us(&msg, since) {
                let kind = msg.get("kind").and_then(Value::as_str).unwrap_or("");
                s.events.push(EventObs {
                    slot,
                    node,
                    latency_us,
                    at_s: (now_us(ctx.t0) / 1_000_000) as u32,
                    kind: event_kind(kind),
                });
            }
            stream.on_event(&msg, &mut s.defects);
        }
        "delta" => {
            let chunk = msg.get("chunk_seq").and_then(Value::as_u64).unwrap_or(0) as u32;
            let offset = msg.get("offset").and_then(Value::as_u64).unwrap_or(0) as u32;
            s.deltas.push(DeltaObs {
                slot,
                chunk,
                offset,
                node,
                at_us: now_us(ctx.t0),
            });
            stream.on_delta(&msg, &mut s.defects);
        }
        "snapshot" => stream.on_snapshot(&msg),
        _ => {}
    }
}
