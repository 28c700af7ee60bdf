//! Graceful shutdown of a node on SIGTERM / SIGINT, bounded in time. In order, at once:
//! readiness turns 503 (`"draining"`) so balancers stop sending work; the worker pool stops claiming
//! and gives its running jobs back to the queue (another node resumes the books within moments rather
//! than after the lease); every WebSocket is closed with 1012 "service restart" so clients reconnect
//! elsewhere; the HTTP listeners stop accepting and finish what is in flight. Whatever is not done
//! after `BUKO_SHUTDOWN_GRACE_SECS` is abandoned and the process exits; a watchdog thread makes sure
//! of that even if the runtime itself is stuck (a node once needed SIGKILL).

use std::time::{Duration, Instant};

use actix_web::dev::{Server, ServerHandle};
use actix_web::web;

use crate::queue::WorkerPool;
use crate::state::AppState;

pub use crate::lifecycle::Lifecycle;

/// Resolves on SIGTERM or SIGINT with the signal's name.
pub async fn signalled() -> &'static str {
    use actix_web::rt::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        log::error!(target: "buko", "cannot install signal handlers; stop this node with SIGKILL");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    }
}

/// What a running node is made of, for [`run_until_signalled`].
pub struct Parts {
    pub server: Server,
    pub ops_server: Option<ServerHandle>,
    pub workers: Option<WorkerPool>,
    pub state: web::Data<AppState>,
    pub grace: Duration,
}

/// Serves until the server stops by itself or a signal arrives, then drains (see the module doc).
pub async fn run_until_signalled(parts: Parts) -> std::io::Result<()> {
    let Parts {
        server,
        ops_server,
        workers,
        state,
        grace,
    } = parts;
    let handle = server.handle();
    let mut serving = actix_web::rt::spawn(server);
    let signal = tokio::select! {
        r = &mut serving => {
            if let Some(w) = &workers {
                w.stop();
            }
            return r.unwrap_or_else(|e| Err(std::io::Error::other(e)));
        }
        s = signalled() => s,
    };
    let started = Instant::now();
    log::info!(target: "buko", signal = signal, grace_secs = grace.as_secs(); "draining");
    watchdog(grace + Duration::from_secs(2));
    state.lifecycle.start_draining();
    let closed = state.ws_registry.close_all_for_restart();
    let release = async {
        match &workers {
            Some(w) => w.shutdown(grace).await,
            None => 0,
        }
    };
    let stop_ops = async {
        if let Some(h) = &ops_server {
            h.stop(true).await;
        }
    };
    // The HTTP server's own shutdown timeout is the grace too (set in `Application::build`).
    let (late_jobs, (), ()) = tokio::join!(release, handle.stop(true), stop_ops);
    let _ = tokio::time::timeout(Duration::from_secs(1), serving).await;
    log::info!(target: "buko", websockets_closed = closed, jobs_not_released = late_jobs,
        ms = started.elapsed().as_millis() as u64; "stopped");
    Ok(())
}

/// Exits the process if the drain has not finished by `after` (a stuck runtime must not keep a node
/// alive until the orchestrator's SIGKILL).
fn watchdog(after: Duration) {
    let spawned = std::thread::Builder::new()
        .name("buko-shutdown-watchdog".into())
        .spawn(move || {
            std::thread::sleep(after);
            log::error!(target: "buko", "shutdown did not finish in time; exiting");
            std::process::exit(1);
        });
    if let Err(e) = spawned {
        log::warn!(target: "buko", "no shutdown watchdog: {e}");
    }
}
