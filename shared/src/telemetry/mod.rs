//! Logging through `tracing`: `RUST_LOG` chooses what is logged, `LOG_FORMAT` how.
//!
//! `LOG_FORMAT=json` writes one JSON object per line, for log collectors (prod): `timestamp`,
//! `level`, `target`, `message`, the event's fields, and the fields of the spans it happened in
//! (a request's `request_id`, `method` and `path`), all on the top level. Anything else is
//! human-readable text (dev). Panics are logged through the same subscriber, so a JSON log
//! stays JSON when a handler panics.

pub mod access_line;
pub mod access_log;
pub mod current_request;
pub mod failure;
pub mod json_log;
pub mod log_writer;
pub mod metrics;
pub mod request_id;

use std::{
    io::{self, IsTerminal},
    sync::OnceLock,
};

use tracing::Dispatch;
use tracing_subscriber::{
    filter::Targets, fmt::MakeWriter, layer::SubscriberExt, util::SubscriberInitExt,
};

use crate::config::{self, ConfigError};
use access_line::AccessLines;
use json_log::{JsonFields, JsonLine};
use log_writer::BatchedWriter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// What [`init`] needs, read and checked before anything is started.
#[derive(Debug, Clone)]
pub struct TelemetryConfig {
    filter: Targets,
    format: LogFormat,
}

impl TelemetryConfig {
    /// `filter` in `RUST_LOG`'s syntax, such as `info` or `info,sqlx=warn`.
    pub fn new(filter: &str, format: LogFormat) -> Result<Self, ConfigError> {
        // `Targets` reads the `target=level` lists RUST_LOG is used for without EnvFilter's
        // regex engine, which would make every binary bigger.
        let filter = filter.parse().map_err(|error| {
            ConfigError::new(format!("RUST_LOG={filter:?}"), format!("{error}"))
        })?;
        Ok(Self { filter, format })
    }

    /// Reads `RUST_LOG` (default `info`) and `LOG_FORMAT` (`text` or `json`, default `text`).
    pub fn from_env() -> Result<Self, ConfigError> {
        let format = match config::string_or("LOG_FORMAT", "text")?.as_str() {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(ConfigError::new(
                    format!("LOG_FORMAT={other:?}"),
                    "expected text or json",
                ));
            }
        };
        Self::new(&config::string_or("RUST_LOG", "info")?, format)
    }
}

/// Where [`init`]'s subscriber writes, for [`flush`].
static STDOUT: OnceLock<BatchedWriter<io::Stdout>> = OnceLock::new();

/// Installs the global subscriber, writing to stdout in batches ([`log_writer`]), and the panic
/// hook. Later calls (in tests) change nothing.
pub fn init(config: TelemetryConfig) -> io::Result<()> {
    // Colours only for a terminal: in `docker logs` or a file they are escape-code noise.
    let ansi = io::stdout().is_terminal();
    let stdout = BatchedWriter::stdout()?;
    if subscriber(config, stdout.clone(), ansi).try_init().is_ok() {
        let _ = STDOUT.set(stdout);
        std::panic::set_hook(Box::new(|panic| {
            let location = panic.location().map(ToString::to_string);
            let message = panic.payload_as_str().unwrap_or("(no message)");
            tracing::error!(panic = message, location, "a thread panicked");
        }));
    }
    Ok(())
}

/// Writes the log lines still gathered: the last thing a service does before it exits.
pub fn flush() {
    if let Some(stdout) = STDOUT.get() {
        // Nowhere left to report a failure to.
        let _ = stdout.flush();
    }
}

/// The subscriber [`init`] installs, writing to `writer`: tests read the log lines with it.
pub fn subscriber<W>(config: TelemetryConfig, writer: W, ansi: bool) -> Dispatch
where
    W: for<'writer> MakeWriter<'writer> + Clone + Send + Sync + 'static,
{
    let registry = tracing_subscriber::registry().with(config.filter);
    match config.format {
        LogFormat::Text => Dispatch::new(
            registry.with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(ansi)
                    .with_writer(writer),
            ),
        ),
        LogFormat::Json => Dispatch::new(
            registry
                .with(
                    tracing_subscriber::fmt::layer()
                        .event_format(JsonLine)
                        .fmt_fields(JsonFields)
                        .with_writer(writer.clone()),
                )
                .with(AccessLines::new(writer)),
        ),
    }
}
