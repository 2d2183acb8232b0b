//! api-service's entry point: configuration, database, then serve until stopped.

use api_service::{AppState, Config, config::DEFAULT_PORT, postgres};
use shared::{http::server, startup};

const NAME: &str = env!("CARGO_PKG_NAME");

#[tokio::main]
async fn main() {
    let config = startup::begin(NAME, DEFAULT_PORT, Config::from_env);
    startup::end(NAME, run(config).await);
}

/// Listens at once, and prepares the database meanwhile: until it is ready, `/health` and
/// `/ready` say what the service waits for (`shared::health::warm_up`).
async fn run(config: Config) -> anyhow::Result<()> {
    let state = AppState::new(postgres::pool(&config.database));
    let app = api_service::app(state.clone(), &config.server);
    server::run(&config.server, app, state.prepare()).await?;
    state.tasks.pool().close().await;
    Ok(())
}
