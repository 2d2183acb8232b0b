//! web-service's entry point: configuration, telemetry, then serve until stopped.
//!
//! Unlike the backends it does not wait for its dependencies at start-up: a page with a backend
//! down is a degraded page, not an error.

use anyhow::Context;
use shared::{config, probe, server, shutdown, telemetry};
use web_service::{AppState, Config, config::DEFAULT_PORT};

const NAME: &str = env!("CARGO_PKG_NAME");

#[tokio::main]
async fn main() {
    probe::run_if_requested(NAME, DEFAULT_PORT);
    let config = config::or_exit(NAME, Config::from_env());
    telemetry::init(config.telemetry);
    if let Err(error) = run(config.server, config.backends, config.assets, config.build).await {
        tracing::error!(error = format!("{error:#}"), "{NAME} stopped");
        std::process::exit(1);
    }
}

async fn run(
    server_config: server::ServerConfig,
    backends: web_service::config::BackendsConfig,
    assets: web_service::config::AssetsConfig,
    build: web_service::build_info::BuildInfo,
) -> anyhow::Result<()> {
    tracing::info!(api = %backends.api_url, counter = %backends.counter_url, static_dir = %assets.dir.display(), "backends");
    let listener = server::bind(server_config.port)
        .await
        .with_context(|| format!("cannot listen on port {}", server_config.port))?;
    let app = web_service::app(AppState::new(&backends, build), &assets, &server_config);
    server::serve(listener, app, shutdown::signal())
        .await
        .context("the server failed")
}
