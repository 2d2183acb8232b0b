//! web-service: the server-rendered front end over api-service and db-service.

mod assets;
pub mod build_info;
pub mod clients;
pub mod config;
mod cross_origin;
mod routes;
pub mod state;
mod templates;

use axum::Router;
use shared::{http::middleware, http::server::ServerConfig};

pub use crate::{config::Config, state::AppState};

/// The whole application: every route inside the shared middleware. Used by `main` and by the
/// tests, so the tests exercise exactly what runs.
pub fn app(state: AppState, assets: &config::AssetsConfig, server: &ServerConfig) -> Router {
    middleware::with_middleware(routes::router(state, assets), server)
}
