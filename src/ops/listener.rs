//! The `BUKO_OPS_BIND` listener: a second, small server on a private address serving only the health
//! and metrics routes (see `access` for who may read their detail).

use std::net::TcpListener;

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpServer};
use anyhow::Context;

use super::access::OpsListener;
use crate::config::Settings;
use crate::state::AppState;
use crate::web::client_addr::TrustedProxies;

/// Starts the `BUKO_OPS_BIND` listener (health and metrics only) when configured; returns its port
/// and handle. It runs on its own small server so scrapes never queue behind page traffic.
pub fn start_ops_listener(
    settings: &Settings,
    state: &web::Data<AppState>,
    trusted: &web::Data<TrustedProxies>,
) -> anyhow::Result<Option<(u16, ServerHandle)>> {
    let Some(bind) = &settings.ops.ops_bind else {
        return Ok(None);
    };
    let listener =
        TcpListener::bind(bind).with_context(|| format!("binding BUKO_OPS_BIND {bind}"))?;
    let port = listener.local_addr()?.port();
    let (state, trusted) = (state.clone(), trusted.clone());
    let marker = web::Data::new(OpsListener);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(trusted.clone())
            .app_data(marker.clone())
            .configure(crate::web::health::routes)
            .configure(crate::web::metrics::routes)
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(1)
    .listen(listener)?
    .run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    log::info!(target: "buko", port = port; "operations listener");
    Ok(Some((port, handle)))
}
