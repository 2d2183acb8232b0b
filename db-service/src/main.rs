//! db-service's entry point: configuration, telemetry, Redis, then serve until stopped.

use anyhow::Context;
use db_service::{AppState, Config, Counters, config::DEFAULT_PORT};
use shared::{config, probe, server, shutdown, telemetry};

const NAME: &str = env!("CARGO_PKG_NAME");

#[tokio::main]
async fn main() {
    probe::run_if_requested(NAME, DEFAULT_PORT);
    let config = config::or_exit(NAME, Config::from_env());
    telemetry::init(config.telemetry);
    if let Err(error) = run(config.server, &config.redis).await {
        tracing::error!(error = format!("{error:#}"), "{NAME} stopped");
        std::process::exit(1);
    }
}

async fn run(
    server_config: server::ServerConfig,
    redis: &db_service::config::RedisConfig,
) -> anyhow::Result<()> {
    // One signal future for both phases, so a SIGTERM during start-up is not lost.
    let mut stop = Box::pin(shutdown::signal());
    let counters = tokio::select! {
        counters = Counters::connect(redis) => counters,
        () = &mut stop => return Ok(()),
    };
    let listener = server::bind(server_config.port)
        .await
        .with_context(|| format!("cannot listen on port {}", server_config.port))?;
    let app = db_service::app(AppState { counters }, &server_config);
    server::serve(listener, app, stop)
        .await
        .context("the server failed")
}
