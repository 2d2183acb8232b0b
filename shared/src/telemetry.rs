//! Logging through `tracing`: `RUST_LOG` chooses what is logged, `LOG_FORMAT` how.
//!
//! `LOG_FORMAT=json` writes one JSON object per line, for log collectors (prod); anything else
//! is human-readable text (dev). Panics are logged through the same subscriber, so a JSON log
//! stays JSON when a handler panics.

use std::io::IsTerminal;

use tracing_subscriber::{filter::Targets, layer::SubscriberExt, util::SubscriberInitExt};

use crate::config::{self, ConfigError};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// What [`init`] needs, read and checked before anything is started.
#[derive(Debug)]
pub struct TelemetryConfig {
    filter: Targets,
    format: LogFormat,
}

impl TelemetryConfig {
    /// Reads `RUST_LOG` (default `info`) and `LOG_FORMAT` (`text` or `json`, default `text`).
    pub fn from_env() -> Result<Self, ConfigError> {
        let directives = config::string_or("RUST_LOG", "info")?;
        // `Targets` reads the `target=level` lists RUST_LOG is used for ("info,sqlx=warn")
        // without EnvFilter's regex engine, which would add ~0.5 MB to every binary.
        let filter: Targets = directives.parse().map_err(|error| {
            ConfigError::new(format!("RUST_LOG={directives:?}"), format!("{error}"))
        })?;
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
        Ok(Self { filter, format })
    }
}

/// Installs the global subscriber and the panic hook. Later calls (in tests) change nothing.
pub fn init(config: TelemetryConfig) {
    let registry = tracing_subscriber::registry().with(config.filter);
    let installed = match config.format {
        // Colours only for a terminal: in `docker logs` or a file they are escape-code noise.
        LogFormat::Text => registry
            .with(tracing_subscriber::fmt::layer().with_ansi(std::io::stdout().is_terminal()))
            .try_init(),
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(false)
                    .with_span_list(false),
            )
            .try_init(),
    };
    if installed.is_ok() {
        std::panic::set_hook(Box::new(|panic| {
            let location = panic.location().map(ToString::to_string);
            let message = panic.payload_as_str().unwrap_or("(no message)");
            tracing::error!(panic = message, location, "a thread panicked");
        }));
    }
}
