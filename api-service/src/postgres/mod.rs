//! The connection to PostgreSQL: the pool, the schema brought up to date at start-up, and what
//! a failed query means (the database is down: 503; a bug: 500), with the cause the pool hides.

pub mod metrics;

use std::time::{Duration, Instant};

use sqlx::{
    ConnectOptions, Connection, PgConnection, PgPool,
    migrate::{MigrateError, Migrator},
    postgres::PgPoolOptions,
};

use shared::health::warm_up::WarmUp;

use crate::config::DatabaseConfig;

/// The migrations in `migrations/`, embedded in the binary: the image needs no SQL files.
pub static MIGRATOR: Migrator = sqlx::migrate!();

/// How long [`explain`] waits for its own connection attempt.
const PROBE_TIMEOUT: Duration = Duration::from_millis(500);

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

/// Waits until PostgreSQL answers (retrying with backoff), then applies pending migrations,
/// reporting each phase through `warm_up`. Several replicas starting at once are safe: the
/// migrator takes an advisory lock, and the second one finds nothing to do.
pub async fn prepare(pool: &PgPool, warm_up: &WarmUp) -> Result<(), MigrateError> {
    warm_up
        .run(
            || run(pool, "connect", async |_| Ok(())),
            |()| MIGRATOR.run(pool),
        )
        .await
}

/// Checks that a query runs, for `/ready`.
pub async fn ping(pool: &PgPool) -> Result<(), QueryError> {
    run(pool, "ping", async |connection| {
        sqlx::query("SELECT 1").execute(connection).await.map(drop)
    })
    .await
}

/// Runs `query` on a connection from `pool`, timed as `name` ([`metrics`]); a failure comes
/// back with what the database did ([`explain`]).
pub async fn run<T>(
    pool: &PgPool,
    name: &'static str,
    query: impl AsyncFnOnce(&mut PgConnection) -> sqlx::Result<T>,
) -> Result<T, QueryError> {
    let started = Instant::now();
    let ran = async {
        let mut connection = {
            let _waiting = metrics::Waiting::start();
            pool.acquire().await?
        };
        query(&mut connection).await
    };
    let outcome = match ran.await {
        Ok(value) => Ok(value),
        Err(error) => Err(explain(pool, error).await),
    };
    metrics::record_query(name, started, &outcome);
    outcome
}

/// A query that failed, with what the database did.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// sqlx's error names its cause itself.
    #[error(transparent)]
    Sqlx(sqlx::Error),
    /// The pool only knows that no connection came in time; `cause` is what a connection
    /// attempt of our own found.
    #[error("no database connection within {waited:?}")]
    PoolTimedOut {
        waited: Duration,
        #[source]
        cause: PoolTimeoutCause,
    },
}

/// Why the pool had no connection to give.
#[derive(Debug, thiserror::Error)]
pub enum PoolTimeoutCause {
    #[error("a new connection failed")]
    ConnectFailed(#[source] sqlx::Error),
    #[error("a new connection got no answer within {0:?}")]
    ConnectTimedOut(Duration),
    #[error("PostgreSQL accepts connections: all {0} of the pool's connections were busy")]
    PoolExhausted(u32),
}

impl QueryError {
    /// Whether the database cannot be reached right now (answer 503), rather than a bug (500).
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::PoolTimedOut { .. }
            | Self::Sqlx(
                sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::Io(_)
                | sqlx::Error::Tls(_),
            ) => true,
            // SQLSTATE classes 08 (connection exception), 53 (insufficient resources, such as
            // too many connections) and 57 (operator intervention, such as a shutdown).
            Self::Sqlx(sqlx::Error::Database(error)) => error.code().is_some_and(|code| {
                ["08", "53", "57"]
                    .iter()
                    .any(|class| code.starts_with(class))
            }),
            Self::Sqlx(_) => false,
        }
    }
}

/// Turns sqlx's error into a [`QueryError`]. A pool timeout hides why no connection came (a
/// refused connection is retried silently until the deadline), so one connection attempt of
/// our own, outside the pool, finds out: refused, unknown host, bad password, or none of
/// these, which means every pooled connection was busy. It runs only on this failure path.
pub async fn explain(pool: &PgPool, error: sqlx::Error) -> QueryError {
    if !matches!(error, sqlx::Error::PoolTimedOut) {
        return QueryError::Sqlx(error);
    }
    let attempt = tokio::time::timeout(PROBE_TIMEOUT, pool.connect_options().connect()).await;
    let cause = match attempt {
        Ok(Ok(connection)) => {
            connection.close().await.ok();
            PoolTimeoutCause::PoolExhausted(pool.options().get_max_connections())
        }
        Ok(Err(error)) => PoolTimeoutCause::ConnectFailed(error),
        Err(_) => PoolTimeoutCause::ConnectTimedOut(PROBE_TIMEOUT),
    };
    QueryError::PoolTimedOut {
        waited: pool.options().get_acquire_timeout(),
        cause,
    }
}
