//! The counting subscriber: counts what one book's watcher receives and checks its order as it goes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix::prelude::*;
use buko_actors::*;

// ----- counting subscriber: checks order as it counts --------------------------------------------------

#[derive(Default, Debug)]
pub struct Tally {
    pub events: u64,
    pub deltas: u64,
    /// Chars received per chunk seq.
    pub chars: HashMap<i64, usize>,
    pub errors: Vec<String>,
    pub dropped: bool,
}

pub struct Counter {
    pub last_event: i64,
    pub tally: Arc<Mutex<Tally>>,
}

impl Actor for Counter {
    type Context = Context<Self>;
}

impl Handler<Deliver> for Counter {
    type Result = ();
    fn handle(&mut self, msg: Deliver, _: &mut Self::Context) {
        let mut t = self.tally.lock().unwrap_or_else(|p| p.into_inner());
        match msg {
            Deliver::Dropped { .. } => t.dropped = true,
            Deliver::Message(o) => match &o.message {
                ProgressMessage::Event { seq, .. } => {
                    if *seq != self.last_event + 1 {
                        t.errors
                            .push(format!("event {seq} after {}", self.last_event));
                    }
                    self.last_event = *seq;
                    t.events += 1;
                }
                ProgressMessage::Delta {
                    chunk_seq,
                    offset,
                    text,
                    ..
                } => {
                    let have = t.chars.entry(*chunk_seq).or_default();
                    if *offset != *have {
                        let e = format!("delta of chunk {chunk_seq} at {offset}, expected {have}");
                        *have = *offset;
                        t.errors.push(e);
                    }
                    *t.chars.entry(*chunk_seq).or_default() += text.chars().count();
                    t.deltas += 1;
                }
                _ => {}
            },
        }
    }
}
