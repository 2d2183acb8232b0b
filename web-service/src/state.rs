//! What every handler shares, and the backends bound to the request being served.

use std::sync::Arc;

use axum::{extract::FromRequestParts, http::request::Parts};
use shared::{
    api::DependencyStatus,
    health::{Checked, Dependencies},
    telemetry::request_id::RequestId,
};

use crate::{
    build_info::BuildInfo,
    clients::{
        self, Backend, BackendStatus,
        api::ApiClient,
        counter::CounterClient,
        replicas::{self, Resolve},
    },
    config::BackendsConfig,
};

#[derive(Debug, Clone)]
pub struct AppState {
    api: Backend,
    counter: Backend,
    pub build: Arc<BuildInfo>,
}

impl AppState {
    /// Both backends share one `reqwest::Client`, hence one connection pool.
    pub fn new(backends: &BackendsConfig, build: BuildInfo) -> Self {
        Self::resolving_with(backends, build, replicas::system_resolver())
    }

    /// The backends' replicas found by `resolve`, not by DNS: the tests give one name several
    /// loopback addresses, as Swarm's DNS gives one per replica.
    pub fn resolving_with(backends: &BackendsConfig, build: BuildInfo, resolve: Resolve) -> Self {
        let http = clients::http_client(backends.timeout);
        let api_url = &backends.api_url;
        Self {
            api: Backend::new(clients::api::NAME, api_url, http.clone(), resolve.clone()),
            counter: Backend::new(clients::counter::NAME, &backends.counter_url, http, resolve),
            build: Arc::new(build),
        }
    }

    /// The backends as the request with `request_id` calls them.
    pub fn backends(&self, request_id: Option<&RequestId>) -> Backends {
        let id = request_id.map(|id| id.header_value().clone());
        Backends {
            api: ApiClient(self.api.for_request(id.clone())),
            counter: CounterClient(self.counter.for_request(id)),
        }
    }
}

/// api-service and db-service, for one request: a handler's argument.
#[derive(Debug, Clone)]
pub struct Backends {
    pub api: ApiClient,
    pub counter: CounterClient,
}

impl Backends {
    /// Each backend's `/ready`, asked in parallel.
    pub async fn statuses(&self) -> Vec<BackendStatus> {
        let (api, counter) = tokio::join!(self.api.0.readiness(), self.counter.0.readiness());
        vec![api, counter]
    }
}

impl FromRequestParts<AppState> for Backends {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(state.backends(parts.extensions.get::<RequestId>()))
    }
}

impl Dependencies for AppState {
    async fn check(&self, request_id: Option<&RequestId>) -> Vec<Checked> {
        self.backends(request_id)
            .statuses()
            .await
            .into_iter()
            .map(|backend| Checked {
                status: DependencyStatus {
                    name: backend.name.to_owned(),
                    reachable: backend.ready,
                },
                failure: backend.failure,
            })
            .collect()
    }
}
