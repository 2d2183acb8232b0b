//! What the backends cost web-service, for Prometheus (`shared::telemetry::metrics`):
//!
//! - `backend_call_duration_seconds{backend, outcome}`: each call, its tries on other replicas
//!   included; `outcome` is `ok`, `rejected` (a 4xx the page shows) or `unavailable` (the page
//!   degrades);
//! - `backend_retries_total{backend, reason}`: calls sent to another replica, because the first
//!   did not act on them (`not_acted_on`) or may have (`perhaps_acted_on`, idempotent only).

use std::{sync::LazyLock, time::Instant};

use prometheus::{HistogramVec, IntCounterVec};
use shared::telemetry::metrics;

use super::BackendError;

static CALL_DURATION: LazyLock<HistogramVec> = LazyLock::new(|| {
    metrics::seconds_histogram(
        "backend_call_duration_seconds",
        "Time of a call to a backend, its tries included, by backend and outcome (ok, rejected, unavailable)",
        &["backend", "outcome"],
    )
});
static RETRIES: LazyLock<IntCounterVec> = LazyLock::new(|| {
    metrics::counter(
        "backend_retries_total",
        "Calls sent to another replica, by backend and reason (not_acted_on, perhaps_acted_on)",
        &["backend", "reason"],
    )
});

/// Times a call to `backend` from `started`, by its outcome.
pub fn record_call<T>(backend: &'static str, started: Instant, outcome: &Result<T, BackendError>) {
    if !metrics::enabled() {
        return;
    }
    let label = match outcome {
        Ok(_) => "ok",
        Err(BackendError::Rejected { .. }) => "rejected",
        Err(BackendError::Unavailable { .. }) => "unavailable",
    };
    CALL_DURATION
        .with_label_values(&[backend, label])
        .observe(started.elapsed().as_secs_f64());
}

/// Counts a call sent again to another replica of `backend`.
pub fn record_retry(backend: &'static str, acted_on: bool) {
    if !metrics::enabled() {
        return;
    }
    let reason = if acted_on {
        "perhaps_acted_on"
    } else {
        "not_acted_on"
    };
    RETRIES.with_label_values(&[backend, reason]).inc();
}
