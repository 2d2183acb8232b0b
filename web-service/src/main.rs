//! web-service's entry point: configuration, then serve until stopped.
//!
//! Unlike the backends it does not wait for its dependencies at start-up: a page with a backend
//! down is a degraded page, not an error.

use anyhow::Context;
use shared::{server, shutdown, startup};
use web_service::{AppState, Config, config::DEFAULT_PORT};

// The static (musl) binary would use musl's allocator, which serialises threads under load:
// the README's benchmark measures both.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const NAME: &str = env!("CARGO_PKG_NAME");

#[tokio::main]
async fn main() {
    let config = startup::begin(NAME, DEFAULT_PORT, Config::from_env);
    startup::end(NAME, run(config).await);
}

async fn run(config: Config) -> anyhow::Result<()> {
    let Config {
        server: server_config,
        backends,
        assets,
        build,
    } = config;
    tracing::info!(api = %backends.api_url, counter = %backends.counter_url, static_dir = %assets.dir.display(), "backends");
    let listener = server::bind(server_config.port)
        .await
        .with_context(|| format!("cannot listen on port {}", server_config.port))?;
    let app = web_service::app(AppState::new(&backends, build), &assets, &server_config);
    server::serve(listener, app, server_config.connections, shutdown::signal())
        .await
        .context("the server failed")
}
