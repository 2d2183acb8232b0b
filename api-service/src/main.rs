//! api-service's entry point: configuration, database, then serve until stopped.

use anyhow::Context;
use api_service::{AppState, Config, config::DEFAULT_PORT, postgres};
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

/// Listens at once, and prepares the database meanwhile: until it is ready, `/health` and
/// `/ready` say what the service waits for (`shared::warm_up`).
async fn run(config: Config) -> anyhow::Result<()> {
    let state = AppState::new(postgres::pool(&config.database));
    let listener = server::bind(config.server.port)
        .await
        .with_context(|| format!("cannot listen on port {}", config.server.port))?;
    let app = api_service::app(state.clone(), &config.server);
    let serve = server::serve(listener, app, config.server.connections, shutdown::signal());
    // A failed migration is a bug no retry fixes: the service stops, saying so.
    let prepare = async {
        postgres::prepare(&state)
            .await
            .context("cannot apply the database migrations")?;
        std::future::pending().await
    };
    tokio::select! {
        served = serve => served.context("the server failed")?,
        failed = prepare => return failed,
    }
    state.pool.close().await;
    Ok(())
}
