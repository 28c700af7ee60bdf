//! Command-line options of `buko-load`. Defaults are the full-size run of issue 9; tests and CI pass
//! small numbers (see `scripts/loadtest.sh --quick`).

use std::time::Duration;

use clap::Parser;

#[derive(Parser, Debug, Clone)]
#[command(
    name = "buko-load",
    about = "Load test for Buko: N WebSocket users, M books writing, HTTP browsing at a set rate"
)]
pub struct Args {
    /// A Buko node to drive (repeat for several nodes; connections and requests are spread round-robin).
    #[arg(long = "target", default_value = "http://127.0.0.1:8080")]
    pub targets: Vec<String>,
    /// The database the nodes share: load accounts, their API keys and idle books are seeded there.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: String,
    /// Concurrent users, each holding one WebSocket.
    #[arg(long, default_value_t = 10_000)]
    pub users: usize,
    /// Books writing at once (created, architected and approved through the REST API).
    #[arg(long, default_value_t = 200)]
    pub books: usize,
    /// WebSocket sessions of each writing book's owner watching it (tabs / devices, spread over nodes).
    #[arg(long, default_value_t = 3)]
    pub watchers: usize,
    /// Target page count of each writing book (chapters ≈ pages / 10, 3..24).
    #[arg(long, default_value_t = 30)]
    pub target_pages: u32,
    /// Create the writing books through `POST /api/v1/books` and let the LLM draft their architectures
    /// (needs an LLM that answers architecture prompts with JSON; `buko fake-llm` does not).
    #[arg(long)]
    pub architect_via_llm: bool,
    /// HTTP browsing requests per second in total (library, book page, book API, events API).
    #[arg(long, default_value_t = 1000.0)]
    pub rate: f64,
    /// Accounts that log in with a password and browse the HTML pages (each login is one argon2 hash).
    #[arg(long, default_value_t = 100)]
    pub browsers: usize,
    /// Most browsing requests in flight; beyond it a scheduled request is counted as skipped.
    #[arg(long, default_value_t = 512)]
    pub max_in_flight: usize,
    /// Seconds to open all WebSockets.
    #[arg(long, default_value_t = 60)]
    pub ramp_up: u64,
    /// Seconds of steady state (the measured window).
    #[arg(long, default_value_t = 300)]
    pub hold: u64,
    /// Seconds to close the WebSockets at the end.
    #[arg(long, default_value_t = 20)]
    pub ramp_down: u64,
    /// After the hold, the longest wait for the writing books to complete.
    #[arg(long, default_value_t = 900)]
    pub drain_timeout: u64,
    /// Longest wait for the books' architectures before the run starts.
    #[arg(long, default_value_t = 600)]
    pub setup_timeout: u64,
    /// PID of a server process to sample (CPU, RSS); repeat, in the order of --target.
    #[arg(long = "server-pid")]
    pub server_pids: Vec<u32>,
    /// Load threads (each an actix system with its own share of connections and requests).
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Loopback source addresses to spread WebSockets over (127.0.0.1..=127.0.0.K) when ports run short.
    #[arg(long, default_value_t = 1)]
    pub source_ips: u8,
    /// Tag of this run's accounts (e-mails load-<tag>-<n>@example.com); random when unset.
    #[arg(long)]
    pub run_tag: Option<String>,
    /// Allowed server memory per WebSocket (KiB) above the node's base.
    #[arg(long, default_value_t = 24.0)]
    pub max_kib_per_conn: f64,
    /// Allowed RSS growth per node over the hold (MiB).
    #[arg(long, default_value_t = 16.0)]
    pub max_growth_mib: f64,
    /// Write the figures as JSON here as well.
    #[arg(long)]
    pub json: Option<std::path::PathBuf>,
}

impl Args {
    pub fn ramp_up(&self) -> Duration {
        Duration::from_secs(self.ramp_up)
    }
    pub fn hold(&self) -> Duration {
        Duration::from_secs(self.hold)
    }
    pub fn ramp_down(&self) -> Duration {
        Duration::from_secs(self.ramp_down)
    }

    /// Watchers per writing book, reduced so that they fit in `users`.
    pub fn effective_watchers(&self) -> usize {
        if self.books == 0 {
            return 0;
        }
        self.watchers.min(self.users / self.books).max(1)
    }
}
