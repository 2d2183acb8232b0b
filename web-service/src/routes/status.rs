//! `/status` and `/status.json`: each backend's readiness and round trip, and the build.

use axum::{Json, extract::State, http::StatusCode, response::Response};
use serde::Serialize;

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
    templates::render(StatusCode::OK, &page)
}

pub async fn json(State(state): State<AppState>, backends: Backends) -> Json<Status> {
    Json(Status {
        backends: backends.statuses().await,
        build: (*state.build).clone(),
    })
}
