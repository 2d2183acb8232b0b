//! `/status` and `/status.json`: each backend's readiness and round trip, and the build.

use axum::{
    Json,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Serialize;
use shared::telemetry::failure::Failure;

use crate::{
    build_info::BuildInfo,
    clients::BackendStatus,
    state::{AppState, Backends},
    templates::{self, StatusPage},
};

#[derive(Debug, Serialize)]
pub struct Status {
    pub backends: Vec<BackendStatus>,
    pub build: BuildInfo,
}

pub async fn page(State(state): State<AppState>, backends: Backends) -> Response {
    let backends = backends.statuses().await;
    let page = StatusPage {
        build: &state.build,
        backends: &backends,
    };
    let mut response = templates::render(StatusCode::OK, &page);
    Failure::attach_all(&mut response, failures(&backends));
    response
}

pub async fn json(State(state): State<AppState>, backends: Backends) -> Response {
    let backends = backends.statuses().await;
    let failures = failures(&backends);
    let status = Status {
        backends,
        build: (*state.build).clone(),
    };
    let mut response = Json(status).into_response();
    Failure::attach_all(&mut response, failures);
    response
}

/// Why each backend that did not answer failed, for the log.
fn failures(backends: &[BackendStatus]) -> Vec<Failure> {
    backends
        .iter()
        .filter_map(|backend| backend.failure.clone())
        .collect()
}
