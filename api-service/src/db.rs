//! The PostgreSQL pool, and bringing the schema up to date at start-up.

use sqlx::{PgPool, migrate::Migrator, postgres::PgPoolOptions};

use crate::config::DatabaseConfig;

/// The migrations in `migrations/`, embedded in the binary: the image needs no SQL files.
pub static MIGRATOR: Migrator = sqlx::migrate!();

/// A pool that connects on first use, so creating it never fails. Each request waits at most
/// `acquire_timeout` for a connection; a connection is checked before it is handed out, so
/// connections broken by a database restart are replaced instead of failing a request.
pub fn pool(config: &DatabaseConfig) -> PgPool {
    PgPoolOptions::new()
        .max_connections(config.max_connections)
        .acquire_timeout(config.acquire_timeout)
        .test_before_acquire(true)
        .connect_lazy_with(config.connect.clone())
}

/// Waits until PostgreSQL answers (retrying with backoff), then applies pending migrations.
/// Several replicas starting at once are safe: the migrator takes an advisory lock.
pub async fn prepare(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    shared::retry::with_backoff("postgres", || async { pool.acquire().await.map(drop) }).await;
    MIGRATOR.run(pool).await
}

/// Whether the error means the database cannot be reached right now (answer 503), rather than
/// a bug (answer 500).
pub fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_) => true,
        // SQLSTATE classes 08 (connection exception), 53 (insufficient resources, such as too
        // many connections) and 57 (operator intervention, such as a shutdown under way).
        sqlx::Error::Database(error) => error.code().is_some_and(|code| {
            ["08", "53", "57"]
                .iter()
                .any(|class| code.starts_with(class))
        }),
        _ => false,
    }
}
