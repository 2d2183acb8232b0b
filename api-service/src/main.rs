//! api-service's entry point: configuration, telemetry, database, then serve until stopped.

use anyhow::Context;
use api_service::{AppState, Config, config::DEFAULT_PORT, db};
use shared::{config, probe, server, shutdown, telemetry};

const NAME: &str = env!("CARGO_PKG_NAME");

#[tokio::main]
async fn main() {
    probe::run_if_requested(NAME, DEFAULT_PORT);
    let config = config::or_exit(NAME, Config::from_env());
    telemetry::init(config.telemetry);
    if let Err(error) = run(config.server, &config.database).await {
        tracing::error!(error = format!("{error:#}"), "{NAME} stopped");
        std::process::exit(1);
    }
}

async fn run(
    server_config: server::ServerConfig,
    database: &api_service::config::DatabaseConfig,
) -> anyhow::Result<()> {
    // One signal future for both phases, so a SIGTERM during start-up is not lost.
    let mut stop = Box::pin(shutdown::signal());
    let pool = db::pool(database);
    tokio::select! {
        prepared = db::prepare(&pool) => prepared.context("cannot apply the database migrations")?,
        () = &mut stop => return Ok(()),
    }
    let listener = server::bind(server_config.port)
        .await
        .with_context(|| format!("cannot listen on port {}", server_config.port))?;
    let app = api_service::app(AppState { pool: pool.clone() }, &server_config);
    server::serve(listener, app, stop)
        .await
        .context("the server failed")?;
    pool.close().await;
    Ok(())
}
