//! The shape every JSON service's router shares: `GET /` naming the service, the service's
//! own routes (held back with a 503 while the service starts), `/health` and `/ready`,
//! `/openapi.json` describing all of them, and JSON errors for unknown routes and methods; all
//! inside the shared middleware.

use axum::{
    Json, Router, body::Bytes, extract::State, http::header, response::IntoResponse, routing::get,
};

use crate::{
    api::ServiceInfo,
    error,
    health::{self, Dependencies, warm_up::GateLayer},
    http::{middleware, server::ServerConfig},
};

/// The whole application of a JSON service, inside the shared middleware: `routes` given
/// their state; `document` is the service's OpenAPI document (see [`crate::openapi`]).
pub fn json_service<S: Dependencies>(
    info: ServiceInfo,
    document: &'static str,
    routes: Router<S>,
    state: S,
    config: &ServerConfig,
) -> Router {
    let document = Bytes::from_static(document.as_bytes());
    let gate = state
        .warm_up()
        .map(|warm_up| GateLayer::new(warm_up.clone(), OPEN_WHILE_STARTING));
    let app = Router::new()
        .route("/", get(service_info).with_state(info))
        .route("/openapi.json", get(openapi_document).with_state(document))
        .merge(routes)
        .with_state(state.clone())
        .merge(health::router(state))
        .fallback(error::no_such_route)
        .method_not_allowed_fallback(error::method_not_allowed);
    middleware::with_middleware_and_gate(app, config, gate)
}

/// What a JSON service answers while it starts: its description and its health. Its own
/// routes answer 503 until then.
const OPEN_WHILE_STARTING: &[&str] = &["/", "/openapi.json", "/health", "/ready"];

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
