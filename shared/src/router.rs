//! The shape every JSON service's router shares: `GET /` naming the service, the service's
//! own routes, `/health` and `/ready`, and JSON errors for unknown routes and methods.

use axum::{Json, Router, routing::get};

use crate::{
    api::ServiceInfo,
    error,
    health::{self, Dependencies},
};

/// The whole router of a JSON service, `routes` given their state.
pub fn json_service<S: Dependencies>(info: ServiceInfo, routes: Router<S>, state: S) -> Router {
    let info = Json(info);
    Router::new()
        .route("/", get(move || std::future::ready(info.clone())))
        .merge(routes)
        .with_state(state.clone())
        .merge(health::router(state))
        .fallback(error::no_such_route)
        .method_not_allowed_fallback(error::method_not_allowed)
}
