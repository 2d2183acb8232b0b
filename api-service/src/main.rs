//! api-service's entry point: configuration, database, then serve until stopped.

use api_service::{AppState, Config, config::DEFAULT_PORT, postgres};
use shared::{http::server, startup, telemetry::metrics::Metrics};

const NAME: &str = env!("CARGO_PKG_NAME");
const VERSION: &str = env!("CARGO_PKG_VERSION");

#[tokio::main]
async fn main() {
    let (config, metrics) = startup::begin(NAME, VERSION, DEFAULT_PORT, Config::from_env);
    startup::end(NAME, run(config, metrics).await);
}

/// Listens at once, and prepares the database meanwhile: until it is ready, `/health` and
/// `/ready` say what the service waits for (`shared::health::warm_up`).
async fn run(config: Config, metrics: Option<Metrics>) -> anyhow::Result<()> {
    let pool = postgres::pool(&config.database);
    let metrics = metrics.map(|metrics| {
        let pool = pool.clone();
        metrics.refreshing(move || postgres::metrics::record_pool(&pool))
    });
    let state = AppState::new(pool);
    let app = api_service::app(state.clone(), &config.server);
    server::run(&config.server, app, state.prepare(), metrics).await?;
    state.tasks.pool().close().await;
    Ok(())
}
