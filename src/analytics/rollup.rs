//! The periodic roll-up into `metrics_rollup`, and the live update it publishes.
//!
//! Every [`PERIOD`] each node records its gauges (online users, WebSocket connections, queue depth and
//! wait) and tries to take the roll-up lock; the node that gets it recomputes, from the source tables,
//! the slots since its last run minus [`LATE_SECS`] (rows committed a little after their timestamp are
//! still counted): quarter-hour slots for every range but the last hour, and minute slots for the last
//! hours. It then publishes the recent slots as they now stand on the `admin` topic; the analytics page
//! applies the difference to its charts, so a point appears without reloading and 50 open tabs cost
//! the node one query per period, not 50. The first run after an upgrade back-fills all history a day
//! per transaction.

use std::time::Duration;

use buko_actors::{ProgressMessage, Publish};
use chrono::{DateTime, NaiveDateTime};

use crate::db::repo::analytics::{self as repo, RollupRow};
use crate::db::{self, write_tx, DbConn, DbError};
use crate::queue::QueueName;
use crate::state::AppState;

/// How often the roll-up runs and the live update is published.
pub const PERIOD: Duration = Duration::from_secs(5);
/// Slots this far behind the last run are recomputed (late commits).
pub const LATE_SECS: i64 = 180;
/// Minute slots are kept this long (only the 1 h range reads them).
pub const MINUTES_KEPT_SECS: i64 = 3 * 3600;
/// Width of the slots every range but the last hour reads.
pub const QUARTER: i64 = 900;
pub const MINUTE: i64 = 60;
/// At most this much history per back-fill transaction.
const CHUNK_SECS: i64 = 86_400;

fn at(t: i64) -> NaiveDateTime {
    DateTime::from_timestamp(t, 0)
        .unwrap_or_default()
        .naive_utc()
}

fn floor(t: i64, w: i64) -> i64 {
    t - t.rem_euclid(w)
}

/// Brings both widths up to `now`. Returns `false` when another node holds the roll-up lock.
pub fn roll(conn: &mut DbConn, now: NaiveDateTime) -> Result<bool, DbError> {
    let t = now.and_utc().timestamp();
    for width in [QUARTER, MINUTE] {
        let oldest = match width {
            MINUTE => t - MINUTES_KEPT_SECS,
            _ => i64::MIN,
        };
        let start = match repo::watermark(conn, width)? {
            Some(w) => w - LATE_SECS,
            None => repo::earliest(conn)?.map_or(t, |e| e.and_utc().timestamp()),
        };
        let mut from = floor(start.max(oldest), width);
        loop {
            let to = floor((from + CHUNK_SECS).min(t), width) + width;
            let done = write_tx(conn, |c| {
                if !repo::try_lock(c)? {
                    return Ok(false);
                }
                rebuild(c, width, from, to)?;
                repo::set_watermark(c, width, t.min(to))?;
                if width == MINUTE {
                    repo::prune(c, MINUTE, t - MINUTES_KEPT_SECS)?;
                }
                Ok::<bool, DbError>(true)
            })?;
            if !done {
                return Ok(false);
            }
            if to > t {
                break;
            }
            from = to;
        }
    }
    Ok(true)
}

/// Recomputes the computed series of `width` for the slots in `[from, to)` (slot-aligned) from the
/// source tables.
pub fn rebuild(conn: &mut DbConn, width: i64, from: i64, to: i64) -> Result<(), DbError> {
    let rows = repo::compute(conn, width, (at(from), at(to)))?;
    repo::replace_computed(conn, width, (from, to), &rows)
}

/// The slots a live update carries: the last minutes and the current and previous quarter hour.
pub fn recent(conn: &mut DbConn, t: i64) -> Result<Vec<RollupRow>, DbError> {
    let mut rows = repo::points(conn, MINUTE, floor(t, MINUTE) - LATE_SECS, i64::MAX)?;
    rows.extend(repo::points(
        conn,
        QUARTER,
        floor(t, QUARTER) - QUARTER,
        i64::MAX,
    )?);
    Ok(rows)
}

/// This node's gauges at `now`, as points of both widths.
pub fn gauge_rows(
    now: i64,
    node: &str,
    online: usize,
    connections: usize,
    backlog: &[(String, i64, Option<NaiveDateTime>)],
) -> Vec<RollupRow> {
    let mut points: Vec<(&str, String, f64)> = vec![
        ("online_users", format!("|{node}"), online as f64),
        ("ws_connections", format!("|{node}"), connections as f64),
    ];
    for q in QueueName::ALL {
        let found = backlog.iter().find(|(name, ..)| name == q.as_str());
        let depth = found.map_or(0, |(_, n, _)| *n);
        let wait = found
            .and_then(|(_, _, oldest)| *oldest)
            .map_or(0, |o| (now - o.and_utc().timestamp()).max(0));
        points.push((
            "queue_depth",
            format!("{}|{node}", q.as_str()),
            depth as f64,
        ));
        points.push((
            "queue_wait_s",
            format!("{}|{node}", q.as_str()),
            wait as f64,
        ));
    }
    [MINUTE, QUARTER]
        .into_iter()
        .flat_map(|w| {
            points.iter().map(move |(series, dim, value)| RollupRow {
                width_secs: i32::try_from(w).unwrap_or(i32::MAX),
                slot: floor(now, w),
                series: (*series).to_string(),
                dim: dim.clone(),
                value: *value,
            })
        })
        .collect()
}

/// One period: this node's gauges, then the roll-up; returns the slots to publish when this node did
/// the roll-up.
pub async fn tick(state: &AppState) -> Result<Option<Vec<RollupRow>>, DbError> {
    let (connections, _) = state.ws_registry.counts();
    let (online, _) = state.presence.online().await;
    let online = usize::try_from(online).unwrap_or(usize::MAX);
    let node = state.admin.node.clone();
    db::run(&state.db, move |c| {
        let now = db::now();
        let t = now.and_utc().timestamp();
        let backlog = repo::queue_backlog(c, now)?;
        let gauges = gauge_rows(t, &node, online, connections, &backlog);
        write_tx(c, |c| {
            gauges.iter().try_for_each(|g| repo::record_gauge(c, g))
        })?;
        if roll(c, now)? {
            Ok(Some(recent(c, t)?))
        } else {
            Ok(None)
        }
    })
    .await
}

/// Runs [`tick`] every [`PERIOD`] for as long as the node runs, publishing each update to the `admin`
/// topic (only admin WebSocket sessions receive it).
pub async fn run(state: actix_web::web::Data<AppState>) {
    let mut timer = tokio::time::interval(PERIOD);
    timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last: Option<Vec<RollupRow>> = None;
    loop {
        timer.tick().await;
        match tick(&state).await {
            Ok(Some(rows)) => {
                // An unchanged update is not sent again.
                if last.as_ref() != Some(&rows) {
                    // A `stats` message (the admin topic's kind) whose `analytics` member tells the
                    // dashboard's script to leave it to the analytics page.
                    let data = serde_json::json!({ "analytics": { "rows": rows } });
                    state
                        .broadcaster
                        .do_send(Publish(ProgressMessage::Stats { data }));
                    last = Some(rows);
                }
            }
            Ok(None) => {}
            Err(e) => log::warn!(target: "buko::analytics", "roll-up: {e}"),
        }
    }
}
