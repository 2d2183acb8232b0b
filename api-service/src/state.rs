//! What every handler shares.

use std::future::Future;

use shared::{
    api::DependencyStatus,
    health::{self, Dependencies},
    request_id::RequestId,
};
use sqlx::PgPool;

use crate::postgres::{self, QueryError};

#[derive(Debug, Clone)]
pub struct AppState {
    pub pool: PgPool,
}

impl AppState {
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
}
