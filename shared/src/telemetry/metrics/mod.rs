//! Metrics in Prometheus's text format, on a listener of their own (`METRICS_PORT`): they are
//! for the operator's Prometheus, never for whoever reaches a service's own port, so
//! `GET /metrics` there stays 404, and the stacks publish the metrics port nowhere.
//!
//! Each metric lives in the process's registry (`prometheus::default_registry`), registered on
//! first use by the helpers below. Without `METRICS_PORT` nothing is recorded: every record
//! first asks [`enabled`], one atomic load, which is the "metrics off" the benchmark compares
//! (`bench/run.py`).
//!
//! Every service exports [`http`]'s request metrics and `build_info`; each adds its
//! dependency calls (Redis commands, PostgreSQL queries and its pool, calls to backends).

pub mod http;

use std::{
    fmt, io,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use axum::{Router, http::header, response::IntoResponse, routing::get};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, TextEncoder,
};

use crate::{
    config::{self, ConfigError},
    http::server::{self, ConnectionLimits},
};

/// The upper bounds of every `_seconds` histogram: from half a millisecond (a Redis command) to
/// 10 s (`REQUEST_TIMEOUT`), dense around the page's 5 to 100 ms.
const SECONDS_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Whether metrics are recorded: `METRICS_PORT` was set.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// A histogram of seconds with these label names, in the process's registry.
///
/// # Panics
/// When the name or labels are not valid Prometheus names, or the name is registered twice:
/// both bugs, and each metric is a `LazyLock` that registers once.
pub fn seconds_histogram(name: &str, help: &str, labels: &[&str]) -> HistogramVec {
    let opts = HistogramOpts::new(name, help).buckets(SECONDS_BUCKETS.to_vec());
    register(HistogramVec::new(opts, labels))
}

/// A counter (its name ends in `_total`) with these label names, in the process's registry.
pub fn counter(name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    register(IntCounterVec::new(Opts::new(name, help), labels))
}

/// A gauge with these label names, in the process's registry.
pub fn gauges(name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    register(IntGaugeVec::new(Opts::new(name, help), labels))
}

/// A gauge without labels, in the process's registry.
pub fn gauge(name: &str, help: &str) -> IntGauge {
    register(IntGauge::new(name, help))
}

fn register<M: prometheus::core::Collector + Clone + 'static>(metric: prometheus::Result<M>) -> M {
    let metric = metric.expect("a metric's name and labels are valid Prometheus names");
    prometheus::register(Box::new(metric.clone())).expect("each metric is registered once");
    metric
}

/// `METRICS_PORT`: where `/metrics` answers; unset, no metrics are recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricsConfig {
    pub port: Option<u16>,
}

impl MetricsConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        let port = match config::optional("METRICS_PORT")? {
            None => None,
            Some(_) => Some(config::port_or("METRICS_PORT", 0)?),
        };
        Ok(Self { port })
    }
}

/// Metrics being recorded, where they are to be served, and what to read before each scrape.
#[derive(Clone)]
pub struct Metrics {
    port: u16,
    refresh: Arc<dyn Fn() + Send + Sync>,
}

impl fmt::Debug for Metrics {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Metrics")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl Metrics {
    /// Turns recording on when `config` names a port, and records `build_info` for `service`
    /// at `version`, with the `GIT_REVISION` and `IMAGE_VARIANT` its image sets.
    pub fn install(
        config: MetricsConfig,
        service: &'static str,
        version: &'static str,
    ) -> Option<Self> {
        let port = config.port?;
        ENABLED.store(true, Ordering::Relaxed);
        let revision = env_or("GIT_REVISION", "unknown");
        let variant = env_or("IMAGE_VARIANT", "not an image");
        gauges(
            "build_info",
            "Always 1: the service, its version, and the commit and Dockerfile target of its image",
            &["service", "version", "revision", "variant"],
        )
        .with_label_values(&[service, version, &revision, &variant])
        .set(1);
        Some(Self {
            port,
            refresh: Arc::new(|| {}),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// These metrics, with `refresh` run before each scrape: for gauges read from elsewhere
    /// (a connection pool's size), which nothing records as they change.
    #[must_use]
    pub fn refreshing(self, refresh: impl Fn() + Send + Sync + 'static) -> Self {
        Self {
            refresh: Arc::new(refresh),
            ..self
        }
    }

    /// Serves `GET /metrics` on `listener` until `shutdown`.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> io::Result<()> {
        let app = Router::new().route("/metrics", get(move || render(self.refresh.clone())));
        server::serve(listener, app, ConnectionLimits::default(), shutdown).await
    }
}

async fn render(refresh: Arc<dyn Fn() + Send + Sync>) -> impl IntoResponse {
    refresh();
    let encoder = TextEncoder::new();
    let mut text = Vec::new();
    encoder
        .encode(&prometheus::gather(), &mut text)
        .expect("the text format encodes every metric the registry holds");
    (
        [(header::CONTENT_TYPE, encoder.format_type().to_owned())],
        text,
    )
}

/// The variable's value, or `default` when it is unset or not valid.
fn env_or(variable: &str, default: &str) -> String {
    config::string_or(variable, default).unwrap_or_else(|_| default.to_owned())
}
