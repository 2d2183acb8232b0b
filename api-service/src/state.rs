//! What every handler shares.

use shared::{
    health::{self, Checked, Dependencies, warm_up::WarmUp},
    telemetry::request_id::RequestId,
};
use sqlx::{PgPool, migrate::MigrateError};

use crate::{postgres, tasks::TaskStore};

#[derive(Debug, Clone)]
pub struct AppState {
    pub tasks: TaskStore,
    /// Reaching PostgreSQL and migrating it, which [`AppState::prepare`] runs.
    pub warm_up: WarmUp,
}

impl AppState {
    /// The state of a service that has not started yet: its routes answer 503 until
    /// [`AppState::prepare`] is done.
    pub fn new(pool: PgPool) -> Self {
        Self {
            tasks: TaskStore::new(pool),
            warm_up: WarmUp::new("postgres"),
        }
    }

    /// The service's start-up: waits until PostgreSQL answers (retrying with backoff), then
    /// applies pending migrations, reporting each phase through `warm_up`.
    pub async fn prepare(&self) -> Result<(), MigrateError> {
        postgres::prepare(self.tasks.pool(), &self.warm_up).await
    }
}

impl Dependencies for AppState {
    async fn check(&self, _request_id: Option<&RequestId>) -> Vec<Checked> {
        vec![health::status_of("postgres", &self.tasks.ping().await)]
    }

    fn warm_up(&self) -> Option<&WarmUp> {
        Some(&self.warm_up)
    }
}
