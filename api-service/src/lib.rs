//! api-service: the task manager REST API, stored in PostgreSQL.

pub mod config;
pub mod db;
mod error;
mod routes;
pub mod state;
mod store;
mod validation;

use axum::Router;
use shared::server::{self, ServerConfig};

pub use crate::{config::Config, state::AppState};

/// The whole application: every route inside the shared middleware. Used by `main` and by the
/// tests, so the tests exercise exactly what runs.
pub fn app(state: AppState, server: &ServerConfig) -> Router {
    server::with_middleware(routes::router(state), server)
}
