//! What every handler shares.

use shared::{api::DependencyStatus, health::Dependencies};
use sqlx::PgPool;

#[derive(Debug, Clone)]
pub struct AppState {
    pub pool: PgPool,
}

impl Dependencies for AppState {
    async fn check(&self) -> Vec<DependencyStatus> {
        let reachable = sqlx::query("SELECT 1").execute(&self.pool).await.is_ok();
        vec![DependencyStatus {
            name: "postgres".to_owned(),
            reachable,
        }]
    }
}
