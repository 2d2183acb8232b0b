//! What every handler shares.

use std::sync::Arc;

use shared::{api::DependencyStatus, health::Dependencies};

use crate::{
    build_info::BuildInfo,
    clients::{self, BackendStatus, api::ApiClient, counter::CounterClient},
    config::BackendsConfig,
};

#[derive(Debug, Clone)]
pub struct AppState {
    pub api: ApiClient,
    pub counter: CounterClient,
    http: reqwest::Client,
    pub build: Arc<BuildInfo>,
}

impl AppState {
    /// Both clients share one `reqwest::Client`, hence one connection pool.
    pub fn new(backends: &BackendsConfig, build: BuildInfo) -> Self {
        let http = clients::http_client(backends.timeout);
        Self {
            api: ApiClient::new(http.clone(), backends.api_url.clone()),
            counter: CounterClient::new(http.clone(), backends.counter_url.clone()),
            http,
            build: Arc::new(build),
        }
    }

    /// Each backend's `/ready`, asked in parallel.
    pub async fn backends(&self) -> Vec<BackendStatus> {
        let (api, counter) = tokio::join!(
            clients::readiness(&self.http, "api-service", self.api.base_url()),
            clients::readiness(&self.http, "db-service", self.counter.base_url()),
        );
        vec![api, counter]
    }
}

impl Dependencies for AppState {
    async fn check(&self) -> Vec<DependencyStatus> {
        self.backends()
            .await
            .into_iter()
            .map(|backend| DependencyStatus {
                name: backend.name.to_owned(),
                reachable: backend.ready,
            })
            .collect()
    }
}
