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

async fn run(config: Config) -> anyhow::Result<()> {
    // One signal future for both phases, so a SIGTERM during start-up is not lost.
    let mut stop = Box::pin(shutdown::signal());
    let counters = tokio::select! {
        counters = Counters::connect(&config.redis) => counters,
        () = &mut stop => return Ok(()),
    };
    let listener = server::bind(config.server.port)
        .await
        .with_context(|| format!("cannot listen on port {}", config.server.port))?;
    let app = db_service::app(AppState { counters }, &config.server);
    server::serve(listener, app, config.server.connections, stop)
        .await
        .context("the server failed")
}
