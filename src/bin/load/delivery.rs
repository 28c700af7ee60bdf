//! Delivery latency from the watchers' observations.
//!
//! Events: arrival (wall clock of the load process) minus the event's `at` — the time the server stamped
//! it just before storing it, on the same machine and clock. This covers store + commit + publish +
//! fan-out (+ Redis relay for the other node) + socket + client parsing, so it overstates pure delivery.
//! The writing node of a book is the node whose watchers see its events soonest (the other node gets
//! them through Redis); with one node every watcher is local.
//!
//! Deltas carry no timestamp. For them the figure is the spread: each watcher's arrival of a delta
//! minus the first arrival of that same delta at any watcher of the book. On the writing node this is
//! the fan-out skew; across nodes it adds the Redis relay. It is not an absolute latency.

use std::collections::BTreeMap;

use super::hist::Histogram;
use super::ws::{DeltaObs, EventObs};

/// Local events slower than this are broken down by kind and by the second they arrived in.
pub const SLOW_US: u64 = 50_000;

#[derive(Debug, Default)]
pub struct Delivery {
    pub event_local: Histogram,
    pub event_remote: Histogram,
    pub delta_spread_local: Histogram,
    pub delta_spread_remote: Histogram,
    /// Event observations with a negative latency (clock read before the stamp; should not happen).
    pub negative: u64,
    /// Writing-node events by kind: all of them, and those over [`SLOW_US`].
    pub local_by_kind: BTreeMap<&'static str, (Histogram, u64)>,
    /// Writing-node events over [`SLOW_US`] by the second they arrived in (seconds since the start).
    pub slow_local_by_second: BTreeMap<u32, u64>,
}

impl Delivery {
    /// The `n` seconds with the most slow writing-node events, most first.
    pub fn worst_seconds(&self, n: usize) -> Vec<(u32, u64)> {
        let mut v: Vec<(u32, u64)> = self
            .slow_local_by_second
            .iter()
            .map(|(s, c)| (*s, *c))
            .collect();
        v.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v.truncate(n);
        v
    }
}

fn median(v: &mut [i64]) -> i64 {
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or(i64::MAX)
}

pub fn compute(events: &[EventObs], deltas: &mut [DeltaObs]) -> Delivery {
    let mut by: BTreeMap<(u32, u8), Vec<i64>> = BTreeMap::new();
    for e in events {
        by.entry((e.slot, e.node)).or_default().push(e.latency_us);
    }
    let mut writer: BTreeMap<u32, (u8, i64)> = BTreeMap::new();
    for ((slot, node), mut v) in by {
        let m = median(&mut v);
        let best = writer.entry(slot).or_insert((node, m));
        if m < best.1 {
            *best = (node, m);
        }
    }
    let local_node = |slot: u32| writer.get(&slot).map(|w| w.0);
    let mut d = Delivery::default();
    for e in events {
        if e.latency_us < 0 {
            d.negative += 1;
        }
        let v = e.latency_us.max(0) as u64;
        if local_node(e.slot) == Some(e.node) {
            d.event_local.record(v);
            let k = d.local_by_kind.entry(e.kind).or_default();
            k.0.record(v);
            if v > SLOW_US {
                k.1 += 1;
                *d.slow_local_by_second.entry(e.at_s).or_default() += 1;
            }
        } else {
            d.event_remote.record(v);
        }
    }
    deltas.sort_unstable_by_key(|x| (x.slot, x.chunk, x.offset, x.at_us));
    let mut i = 0;
    while i < deltas.len() {
        let key = (deltas[i].slot, deltas[i].chunk, deltas[i].offset);
        let first = deltas[i].at_us;
        let mut j = i;
        while j < deltas.len() && (deltas[j].slot, deltas[j].chunk, deltas[j].offset) == key {
            let x = deltas[j];
            let spread = x.at_us - first;
            // Local is whichever node the events say writes the book; unknown books count as local.
            if local_node(x.slot).is_none_or(|n| n == x.node) {
                d.delta_spread_local.record(spread);
            } else {
                d.delta_spread_remote.record(spread);
            }
            j += 1;
        }
        i = j;
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_faster_node_is_the_writer() {
        let ev = |node, latency_us| EventObs {
            slot: 0,
            node,
            latency_us,
            at_s: 7,
            kind: "chunk_completed",
        };
        let events = [
            ev(0, 2_000),
            ev(0, 3_000),
            ev(1, 9_000),
            ev(1, 8_000),
            ev(0, 2_500),
            ev(0, 60_000),
        ];
        let mut deltas = [
            DeltaObs {
                slot: 0,
                chunk: 1,
                offset: 0,
                node: 1,
                at_us: 1_500,
            },
            DeltaObs {
                slot: 0,
                chunk: 1,
                offset: 0,
                node: 0,
                at_us: 1_000,
            },
        ];
        let d = compute(&events, &mut deltas);
        assert_eq!((d.event_local.count(), d.event_remote.count()), (4, 2));
        assert_eq!(d.worst_seconds(3), vec![(7, 1)]);
        assert_eq!(d.local_by_kind["chunk_completed"].1, 1);
        assert!(d.event_remote.quantile(0.5) >= 7_900);
        assert_eq!(d.delta_spread_remote.quantile(1.0), 500);
        assert_eq!(d.delta_spread_local.quantile(1.0), 0);
    }
}
