//! Wiring for the tests: a fast config, architectures, a collecting subscriber, and waiting helpers.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix::prelude::*;
use buko_actors::model::ChapterPlan;
use buko_actors::*;
use tokio::sync::mpsc;

use crate::llm::ScriptLlm;
use crate::store::{MemStore, SharedStore};

pub fn fast_config() -> EngineConfig {
    EngineConfig {
        retry: RetryConfig {
            base: Duration::from_millis(5),
            cap: Duration::from_millis(40),
            max_attempts: 6,
        },
        store_retry: RetryConfig {
            base: Duration::from_millis(1),
            cap: Duration::from_millis(5),
            max_attempts: 10,
        },
        breaker: BreakerConfig {
            cool_down: Duration::from_millis(150),
            ..BreakerConfig::default()
        },
        stall_timeout: Duration::from_millis(150),
        chunk_timeout: Duration::from_secs(5),
        coalesce: Duration::from_millis(10),
        restart_backoff: Duration::from_millis(10),
        breaker_poll: Duration::from_millis(20),
        // The scripted model writes a few words per chunk whatever the budget; length is tested apart.
        length_extensions: 0,
        ..EngineConfig::default()
    }
}

pub fn architecture(chapters: usize, words: u32) -> Architecture {
    Architecture {
        title: "The Test Book".into(),
        synopsis: "A book that tests an engine.".into(),
        chapters: (0..chapters)
            .map(|i| ChapterPlan {
                title: format!("Chapter title {}", i + 1),
                summary: format!("What happens in chapter {}.", i + 1),
                key_points: vec!["a point".into()],
                target_words: words,
            })
            .collect(),
        ..Architecture::default()
    }
}

pub struct Harness {
    pub engine: Engine,
    pub store: Arc<MemStore>,
    pub llm: Arc<ScriptLlm>,
    done_tx: mpsc::UnboundedSender<BookFinished>,
    pub done: mpsc::UnboundedReceiver<BookFinished>,
}

struct DoneSink(mpsc::UnboundedSender<BookFinished>);
impl Actor for DoneSink {
    type Context = Context<Self>;
}
impl Handler<BookFinished> for DoneSink {
    type Result = ();
    fn handle(&mut self, msg: BookFinished, _: &mut Self::Context) {
        let _ = self.0.send(msg);
    }
}

impl Harness {
    pub fn new(llm: ScriptLlm, config: EngineConfig) -> Harness {
        let store = Arc::new(MemStore::default());
        let llm = Arc::new(llm);
        let engine = Engine::start(
            llm.clone(),
            Arc::new(SharedStore(store.clone())),
            Arc::new(NoRemote),
            Arc::new(SystemClock),
            config,
        );
        let (done_tx, done) = mpsc::unbounded_channel();
        Harness {
            engine,
            store,
            llm,
            done_tx,
            done,
        }
    }

    pub async fn start(&self, book_id: &str, regenerate_chapter: Option<usize>) {
        let done = DoneSink(self.done_tx.clone()).start().recipient();
        let msg = StartBook {
            book_id: book_id.into(),
            fence: Fence(0),
            regenerate_chapter: regenerate_chapter.map(buko_actors::Regenerate::chapter),
            done: Some(done),
        };
        self.engine
            .supervisor
            .send(msg)
            .await
            .expect("mailbox")
            .expect("started");
    }

    pub async fn outcome(&mut self, within: Duration) -> BookFinished {
        tokio::time::timeout(within, self.done.recv())
            .await
            .expect("book finished in time")
            .expect("channel")
    }

    pub async fn stop(&self, book_id: &str, control: Control) -> bool {
        self.engine
            .supervisor
            .send(StopBook {
                book_id: book_id.into(),
                control,
            })
            .await
            .expect("mailbox")
    }
}

/// Polls `cond` every 5 ms until it holds (panics after `within`).
pub async fn wait_until(within: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + within;
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A subscriber that keeps everything it is sent.
pub struct Collector {
    pub got: Arc<Mutex<Vec<Deliver>>>,
}

impl Actor for Collector {
    type Context = Context<Self>;
    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(1_000_000);
    }
}

impl Handler<Deliver> for Collector {
    type Result = ();
    fn handle(&mut self, msg: Deliver, _: &mut Self::Context) {
        self.got.lock().unwrap().push(msg);
    }
}

/// Registers a collector subscribed to `topic`; returns what it receives.
pub async fn collect(
    broadcaster: &Addr<ProgressBroadcaster>,
    topic: Topic,
) -> Arc<Mutex<Vec<Deliver>>> {
    let got = Arc::new(Mutex::new(Vec::new()));
    let addr = Collector { got: got.clone() }.start();
    let id = broadcaster
        .send(Register {
            recipient: addr.recipient(),
        })
        .await
        .expect("mailbox");
    assert!(broadcaster
        .send(Subscribe { id, topic })
        .await
        .expect("mailbox"));
    got
}

pub fn messages(got: &Arc<Mutex<Vec<Deliver>>>) -> Vec<ProgressMessage> {
    got.lock()
        .unwrap()
        .iter()
        .filter_map(|d| match d {
            Deliver::Message(o) => Some(o.message.clone()),
            Deliver::Dropped { .. } => None,
        })
        .collect()
}

/// The text streamed for chunk `seq`, deltas in the order received.
pub fn streamed(msgs: &[ProgressMessage], seq: i64) -> String {
    msgs.iter()
        .filter_map(|m| match m {
            ProgressMessage::Delta {
                chunk_seq, text, ..
            } if *chunk_seq == seq => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

pub fn event_kinds(events: &[BookEvent]) -> Vec<String> {
    events.iter().map(|e| e.kind.clone()).collect()
}

pub fn assert_strictly_increasing(events: &[BookEvent]) {
    for w in events.windows(2) {
        assert!(
            w[1].seq > w[0].seq,
            "event seqs must increase: {} then {}",
            w[0].seq,
            w[1].seq
        );
    }
}
