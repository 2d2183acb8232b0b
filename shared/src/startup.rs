//! The first and last lines of every service's `main`, so that no service repeats them.
//!
//! `begin` answers the `healthcheck` mode, reads the configuration (a bad value: one line and
//! exit status 2) and starts telemetry: logging, and metrics when `METRICS_PORT` is set. `end` logs why a service stopped and exits with 1.

use std::fmt::Display;

use crate::{
    config::{self, ConfigError},
    health::probe,
    telemetry::{
        self, TelemetryConfig,
        metrics::{Metrics, MetricsConfig},
    },
};

/// Runs the `healthcheck` mode if asked, else returns the service's configuration with
/// logging started, and its metrics' recorder when `METRICS_PORT` asks for one (for
/// `shared::http::server::run` to serve). `load` reads the service's own settings; telemetry's
/// are read here.
pub fn begin<C>(
    program: &'static str,
    version: &'static str,
    default_port: u16,
    load: impl FnOnce() -> Result<C, ConfigError>,
) -> (C, Option<Metrics>) {
    probe::run_if_requested(program, default_port);
    let (telemetry_config, metrics_config, config) = config::or_exit(
        program,
        TelemetryConfig::from_env().and_then(|telemetry_config| {
            Ok((telemetry_config, MetricsConfig::from_env()?, load()?))
        }),
    );
    if let Err(error) = telemetry::init(telemetry_config) {
        eprintln!("{program}: cannot start logging: {error}");
        std::process::exit(1);
    }
    (config, Metrics::install(metrics_config, program, version))
}

/// Returns when the service ended cleanly; logs the error (with its causes) and exits 1
/// otherwise. Either way, every log line is written first.
pub fn end(program: &str, outcome: Result<(), impl Display>) {
    if let Err(error) = outcome {
        tracing::error!(error = format!("{error:#}"), "{program} stopped");
        telemetry::flush();
        std::process::exit(1);
    }
    telemetry::flush();
}
