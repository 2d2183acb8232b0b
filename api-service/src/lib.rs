//! api-service: the task manager REST API, stored in PostgreSQL.

pub mod config;
mod error;
pub mod openapi;
pub mod postgres;
mod routes;
pub mod state;
pub mod tasks;
mod validation;

use axum::Router;
use shared::http::server::ServerConfig;

pub use crate::{config::Config, state::AppState};

/// The whole application: every route inside the shared middleware. Used by `main` and by the
/// tests, so the tests exercise exactly what runs.
pub fn app(state: AppState, server: &ServerConfig) -> Router {
    routes::router(state, server)
}
