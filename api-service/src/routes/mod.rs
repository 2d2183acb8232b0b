//! Every route of api-service, in one router.

mod tasks;

use axum::Router;
use shared::api::ServiceInfo;

use crate::state::AppState;

/// All routes, without the shared middleware (see [`crate::app`]).
pub fn router(state: AppState) -> Router {
    let info = ServiceInfo::new(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"));
    shared::router::json_service(info, tasks::router(), state)
}
