//! What every handler shares.

use std::convert::Infallible;

use shared::{
    health::{self, Checked, Dependencies, warm_up::WarmUp},
    telemetry::request_id::RequestId,
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
    /// nothing to prepare: the hash is created by its first hit, so it cannot fail.
    pub async fn prepare(&self) -> Result<(), Infallible> {
        self.warm_up
            .run(
                || self.counters.ping(),
                |()| async { Ok::<_, Infallible>(()) },
            )
            .await
    }
}

impl Dependencies for AppState {
    async fn check(&self, _request_id: Option<&RequestId>) -> Vec<Checked> {
        vec![health::status_of("redis", &self.counters.ping().await)]
    }

    fn warm_up(&self) -> Option<&WarmUp> {
        Some(&self.warm_up)
    }
}
