//! What PostgreSQL costs api-service, for Prometheus (`shared::telemetry::metrics`):
//!
//! - `postgres_query_duration_seconds{query, outcome}`: each query, waiting for a connection
//!   included; `outcome` is `ok`, `unavailable` (answered 503) or `error`;
//! - `postgres_pool_waiting`: queries waiting for a connection now: above 0 for long, the pool
//!   is exhausted (`DATABASE_MAX_CONNECTIONS`);
//! - `postgres_pool_connections{state}`, `idle` or `in_use`, and
//!   `postgres_pool_max_connections`, read from the pool at each scrape ([`record_pool`]).

use std::{sync::LazyLock, time::Instant};

use prometheus::{HistogramVec, IntGauge, IntGaugeVec};
use shared::telemetry::metrics;
use sqlx::PgPool;

use super::QueryError;

static QUERY_DURATION: LazyLock<HistogramVec> = LazyLock::new(|| {
    metrics::seconds_histogram(
        "postgres_query_duration_seconds",
        "Time of a query, waiting for a connection included, by query and outcome (ok, unavailable, error)",
        &["query", "outcome"],
    )
});
static WAITING: LazyLock<IntGauge> = LazyLock::new(|| {
    metrics::gauge(
        "postgres_pool_waiting",
        "Queries waiting for a connection from the pool",
    )
});
static CONNECTIONS: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    metrics::gauges(
        "postgres_pool_connections",
        "The pool's connections, by state (idle, in_use)",
        &["state"],
    )
});
static MAX_CONNECTIONS: LazyLock<IntGauge> = LazyLock::new(|| {
    metrics::gauge(
        "postgres_pool_max_connections",
        "The most connections the pool opens",
    )
});

/// Times the query `name` from `started`, by its outcome.
pub fn record_query<T>(name: &'static str, started: Instant, outcome: &Result<T, QueryError>) {
    if !metrics::enabled() {
        return;
    }
    let label = match outcome {
        Ok(_) => "ok",
        Err(error) if error.is_unavailable() => "unavailable",
        Err(_) => "error",
    };
    QUERY_DURATION
        .with_label_values(&[name, label])
        .observe(started.elapsed().as_secs_f64());
}

/// Sets the pool's gauges from what it holds now: run before each scrape.
pub fn record_pool(pool: &PgPool) {
    let idle = i64::try_from(pool.num_idle()).unwrap_or(i64::MAX);
    let open = i64::from(pool.size());
    CONNECTIONS.with_label_values(&["idle"]).set(idle);
    CONNECTIONS
        .with_label_values(&["in_use"])
        .set(open.saturating_sub(idle));
    MAX_CONNECTIONS.set(i64::from(pool.options().get_max_connections()));
    // Present from the first scrape, 0 until a query waits.
    WAITING.add(0);
}

/// A query waiting for a connection, in `postgres_pool_waiting` until it gets one or gives
/// up (dropped with the request whose client left, too).
#[derive(Debug)]
pub struct Waiting(bool);

impl Waiting {
    pub fn start() -> Self {
        let counted = metrics::enabled();
        if counted {
            WAITING.inc();
        }
        Self(counted)
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        if self.0 {
            WAITING.dec();
        }
    }
}
