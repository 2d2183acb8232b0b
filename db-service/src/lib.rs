//! db-service: the hit counter, stored in Redis.

pub mod config;
pub mod counters;
mod error;
mod key;
pub mod openapi;
mod routes;
pub mod state;

use axum::Router;
use shared::http::server::ServerConfig;

pub use crate::{config::Config, counters::Counters, state::AppState};

/// The whole application: every route inside the shared middleware. Used by `main` and by the
/// tests, so the tests exercise exactly what runs.
pub fn app(state: AppState, server: &ServerConfig) -> Router {
    routes::router(state, server)
}
