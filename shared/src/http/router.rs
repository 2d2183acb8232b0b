//! The shape every JSON service's router shares: `GET /` naming the service, the service's
//! own routes (held back with a 503 while the service starts), `/health` and `/ready`,
//! `/openapi.json` describing all of them, and JSON errors for unknown routes and methods.

use axum::{
    Json, Router, body::Bytes, extract::State, http::header, middleware::from_fn_with_state,
    response::IntoResponse, routing::get,
};

use crate::{
    api::ServiceInfo,
    error,
    health::warm_up,
    health::{self, Dependencies},
};

/// The whole router of a JSON service, `routes` given their state; `document` is the service's
/// OpenAPI document (see [`crate::openapi`]).
pub fn json_service<S: Dependencies>(
    info: ServiceInfo,
    document: &'static str,
    routes: Router<S>,
    state: S,
) -> Router {
    let document = Bytes::from_static(document.as_bytes());
    let routes = match state.warm_up() {
        Some(warm_up) => routes.route_layer(from_fn_with_state(warm_up.clone(), warm_up::gate)),
        None => routes,
    };
    Router::new()
        .route("/", get(service_info).with_state(info))
        .route("/openapi.json", get(openapi_document).with_state(document))
        .merge(routes)
        .with_state(state.clone())
        .merge(health::router(state))
        .fallback(error::no_such_route)
        .method_not_allowed_fallback(error::method_not_allowed)
}

/// The service's name and version.
#[utoipa::path(get, path = "/", tag = "service", operation_id = "service_info",
    responses((status = 200, description = "Which service answers", body = ServiceInfo)))]
pub async fn service_info(State(info): State<ServiceInfo>) -> Json<ServiceInfo> {
    Json(info)
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "service", operation_id = "openapi",
    responses((status = 200, description = "The OpenAPI 3.1 document of this service",
        content_type = "application/json", body = Object)))]
pub async fn openapi_document(State(document): State<Bytes>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], document)
}
