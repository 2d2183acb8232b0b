//! db-service's entry point: configuration, Redis, then serve until stopped.

use anyhow::Context;
use db_service::{AppState, Config, Counters, config::DEFAULT_PORT};
use shared::{server, shutdown, startup};

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

/// Listens at once, and reaches Redis meanwhile: until it answers, `/health` and `/ready` say
/// what the service waits for (`shared::warm_up`).
async fn run(config: Config) -> anyhow::Result<()> {
    let counters = Counters::new(&config.redis).context("invalid Redis settings")?;
    let state = AppState::new(counters);
    let listener = server::bind(config.server.port)
        .await
        .with_context(|| format!("cannot listen on port {}", config.server.port))?;
    let app = db_service::app(state.clone(), &config.server);
    let prepare = tokio::spawn(async move { state.prepare().await });
    let served = server::serve(listener, app, config.server.connections, shutdown::signal()).await;
    prepare.abort();
    served.context("the server failed")
}
