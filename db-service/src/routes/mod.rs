//! Every route of db-service, in one router.

mod hits;

use axum::{Router, routing::get};
use shared::{api::ServiceInfo, error, extract::Json, health};

use crate::state::AppState;

/// All routes, without the shared middleware (see [`crate::app`]).
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(info))
        .merge(hits::router())
        .with_state(state.clone())
        .merge(health::router(state))
        .fallback(error::no_such_route)
        .method_not_allowed_fallback(error::method_not_allowed)
}

async fn info() -> Json<ServiceInfo> {
    Json(ServiceInfo::new(
        env!("CARGO_PKG_NAME"),
        env!("CARGO_PKG_VERSION"),
    ))
}
