//! Who does what: turns the seeded accounts and the writing books into WebSocket connections (spread
//! over the nodes and, shuffled, over the ramp-up) and into each load thread's share of the work.
//!
//! Population: every writing book is watched by `watchers` sessions of its owner (tabs / devices,
//! alternating between nodes so the cross-node path is exercised); every other user holds one session
//! on their own draft book. Browsing: the writing books' owners poll the API; `browsers` idle users,
//! logged in with a password, load the library and book pages.

use std::time::Duration;

use rand::seq::SliceRandom;

use super::args::Args;
use super::books::WritingBook;
use super::browse::PageUser;
use super::setup::Account;
use super::shard::ShardPlan;
use super::ws::ConnSpec;

pub struct Plan {
    pub shards: Vec<ShardPlan>,
    pub conns_per_target: Vec<usize>,
    pub total_conns: usize,
}

pub fn build(args: &Args, idle: &[Account], books: &[WritingBook], pages: Vec<PageUser>) -> Plan {
    let targets = args.targets.len().max(1);
    let w = args.effective_watchers();
    let mut conns = Vec::new();
    for (s, b) in books.iter().enumerate() {
        for k in 0..w {
            conns.push(ConnSpec {
                api_key: b.api_key.clone(),
                book_id: b.id.clone(),
                slot: Some(s as u32),
                target: (s * w + k) % targets,
                open_after: Duration::ZERO,
                close_after: Duration::ZERO,
            });
        }
    }
    for (j, a) in idle.iter().enumerate() {
        if let Some(book) = &a.idle_book {
            conns.push(ConnSpec {
                api_key: a.api_key.clone(),
                book_id: book.clone(),
                slot: None,
                target: j % targets,
                open_after: Duration::ZERO,
                close_after: Duration::ZERO,
            });
        }
    }
    conns.shuffle(&mut rand::rng());
    let n = conns.len().max(1) as f64;
    let mut conns_per_target = vec![0; targets];
    for (k, c) in conns.iter_mut().enumerate() {
        c.open_after = args.ramp_up().mul_f64(k as f64 / n);
        c.close_after = args.ramp_down().mul_f64(k as f64 / n);
        conns_per_target[c.target] += 1;
    }
    let threads = args.threads.max(1);
    let mut shards: Vec<ShardPlan> = (0..threads)
        .map(|_| ShardPlan {
            conns: Vec::new(),
            pages: Vec::new(),
            apis: Vec::new(),
            rate: args.rate / threads as f64,
            max_in_flight: (args.max_in_flight / threads).max(1),
            targets: args.targets.clone(),
            source_ips: args.source_ips,
        })
        .collect();
    let total_conns = conns.len();
    for (k, c) in conns.into_iter().enumerate() {
        shards[k % threads].conns.push(c);
    }
    for (k, p) in pages.into_iter().enumerate() {
        shards[k % threads].pages.push(p);
    }
    for (k, b) in books.iter().enumerate() {
        shards[k % threads]
            .apis
            .push((b.api_key.clone(), b.id.clone()));
    }
    Plan {
        shards,
        conns_per_target,
        total_conns,
    }
}
