//! Logging through `tracing`: `RUST_LOG` chooses what is logged, `LOG_FORMAT` how.
//!
//! `LOG_FORMAT=json` writes one JSON object per line, for log collectors (prod); anything else
//! is human-readable text (dev). Panics are logged through the same subscriber, so a JSON log
//! stays JSON when a handler panics.

use std::io::IsTerminal;

use tracing_subscriber::{EnvFilter, filter::LevelFilter};

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
    filter: EnvFilter,
    format: LogFormat,
}

impl TelemetryConfig {
    /// Reads `RUST_LOG` (default `info`) and `LOG_FORMAT` (`text` or `json`, default `text`).
    pub fn from_env() -> Result<Self, ConfigError> {
        let directives = config::string_or("RUST_LOG", "info")?;
        let filter = EnvFilter::builder()
            .with_default_directive(LevelFilter::INFO.into())
            .parse(&directives)
            .map_err(|error| {
                ConfigError::new(format!("RUST_LOG={directives:?}"), error.to_string())
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
    // Colours only for a terminal: in `docker logs` or a file they are escape-code noise.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(config.filter)
        .with_ansi(std::io::stdout().is_terminal());
    let installed = match config.format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
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
