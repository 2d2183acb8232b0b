//! What every handler shares.

use std::convert::Infallible;

use shared::{
    api::DependencyStatus,
    health::{self, Dependencies},
    request_id::RequestId,
    warm_up::WarmUp,
};

use crate::counters::Counters;

#[derive(Debug, Clone)]
pub struct AppState {
    pub counters: Counters,
    /// Reaching Redis, which [`AppState::prepare`] runs.
    pub warm_up: WarmUp,
}

impl AppState {
    /// The state of a service that has not started yet: its routes answer 503 until
    /// [`AppState::prepare`] is done.
    pub fn new(counters: Counters) -> Self {
        Self {
            counters,
            warm_up: WarmUp::new("redis"),
        }
    }

    /// The service's start-up: waits until Redis answers (retrying with backoff). There is
    /// nothing to prepare: the hash is created by its first hit.
    pub async fn prepare(&self) {
        let Ok(()) = self
            .warm_up
            .run(
                || self.counters.ping(),
                |()| async { Ok::<_, Infallible>(()) },
            )
            .await;
    }
}

impl Dependencies for AppState {
    async fn check(&self, _request_id: Option<&RequestId>) -> Vec<DependencyStatus> {
        vec![health::status_of("redis", &self.counters.ping().await)]
    }

    fn warm_up(&self) -> Option<&WarmUp> {
        Some(&self.warm_up)
    }
}
