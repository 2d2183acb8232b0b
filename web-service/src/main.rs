//! web-service's entry point: configuration, then serve until stopped.
//!
//! Unlike the backends it does not wait for its dependencies at start-up: a page with a backend
//! down is a degraded page, not an error.

use std::convert::Infallible;

use shared::{http::server, startup, telemetry::metrics::Metrics};
use web_service::{AppState, Config, config::DEFAULT_PORT};

const NAME: &str = env!("CARGO_PKG_NAME");
const VERSION: &str = env!("CARGO_PKG_VERSION");

#[tokio::main]
async fn main() {
    let (config, metrics) = startup::begin(NAME, VERSION, DEFAULT_PORT, Config::from_env);
    startup::end(NAME, run(config, metrics).await);
}

async fn run(config: Config, metrics: Option<Metrics>) -> anyhow::Result<()> {
    let Config {
        server: server_config,
        backends,
        assets,
        build,
    } = config;
    tracing::info!(api = %backends.api_url, counter = %backends.counter_url, static_dir = %assets.dir.display(), "backends");
    let app = web_service::app(AppState::new(&backends, build), &assets, &server_config);
    // Nothing to prepare: a page with a backend down is a degraded page.
    let nothing = std::future::ready(Ok::<(), Infallible>(()));
    server::run(&server_config, app, nothing, metrics).await?;
    Ok(())
}
