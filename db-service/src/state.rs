//! What every handler shares.

use shared::{api::DependencyStatus, health::Dependencies};

use crate::counters::Counters;

#[derive(Debug, Clone)]
pub struct AppState {
    pub counters: Counters,
}

impl Dependencies for AppState {
    async fn check(&self) -> Vec<DependencyStatus> {
        vec![DependencyStatus {
            name: "redis".to_owned(),
            reachable: self.counters.ping().await.is_ok(),
        }]
    }
}
