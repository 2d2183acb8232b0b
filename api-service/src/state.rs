//! What every handler shares.

use std::future::Future;

use shared::{
    api::DependencyStatus,
    health::{self, Dependencies},
    request_id::RequestId,
    warm_up::WarmUp,
};
use sqlx::PgPool;

use crate::postgres::{self, QueryError};

#[derive(Debug, Clone)]
pub struct AppState {
    pub pool: PgPool,
    /// Reaching PostgreSQL and migrating it, which [`postgres::prepare`] runs.
    pub warm_up: WarmUp,
}

impl AppState {
    /// The state of a service that has not started yet: its routes answer 503 until
    /// [`postgres::prepare`] is done.
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            warm_up: WarmUp::new("postgres"),
        }
    }

    /// Runs one query on the pool; a failure comes back with what the database did.
    pub async fn query<T>(
        &self,
        query: impl Future<Output = sqlx::Result<T>>,
    ) -> Result<T, QueryError> {
        postgres::run(&self.pool, query).await
    }
}

impl Dependencies for AppState {
    async fn check(&self, _request_id: Option<&RequestId>) -> Vec<DependencyStatus> {
        vec![health::status_of(
            "postgres",
            &postgres::ping(&self.pool).await,
        )]
    }

    fn warm_up(&self) -> Option<&WarmUp> {
        Some(&self.warm_up)
    }
}
