//! What every handler shares.

use shared::{
    api::DependencyStatus,
    health::{self, Dependencies},
    request_id::RequestId,
};

use crate::counters::Counters;

#[derive(Debug, Clone)]
pub struct AppState {
    pub counters: Counters,
}

impl Dependencies for AppState {
    async fn check(&self, _request_id: Option<&RequestId>) -> Vec<DependencyStatus> {
        vec![health::status_of("redis", &self.counters.ping().await)]
    }
}
