//! db-service's entry point: configuration, Redis, then serve until stopped.

use anyhow::Context;
use db_service::{AppState, Config, Counters, config::DEFAULT_PORT};
use shared::{http::server, startup, telemetry::metrics::Metrics};

const NAME: &str = env!("CARGO_PKG_NAME");
const VERSION: &str = env!("CARGO_PKG_VERSION");

#[tokio::main]
async fn main() {
    let (config, metrics) = startup::begin(NAME, VERSION, DEFAULT_PORT, Config::from_env);
    startup::end(NAME, run(config, metrics).await);
}

/// Listens at once, and reaches Redis meanwhile: until it answers, `/health` and `/ready` say
/// what the service waits for (`shared::health::warm_up`).
async fn run(config: Config, metrics: Option<Metrics>) -> anyhow::Result<()> {
    let counters = Counters::new(&config.redis).context("invalid Redis settings")?;
    let state = AppState::new(counters);
    let app = db_service::app(state.clone(), &config.server);
    server::run(&config.server, app, state.prepare(), metrics).await?;
    Ok(())
}
