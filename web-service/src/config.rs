//! web-service's settings, all from environment variables.

use std::{path::PathBuf, time::Duration};

use shared::{
    catalogue,
    config::{self, ConfigError},
    http::server::ServerConfig,
};

use crate::build_info::BuildInfo;

/// The port the service listens on unless `PORT` says otherwise: the catalogue's.
pub const DEFAULT_PORT: u16 = catalogue::WEB_SERVICE_PORT;

#[derive(Debug)]
pub struct Config {
    pub server: ServerConfig,
    pub backends: BackendsConfig,
    pub assets: AssetsConfig,
    pub build: BuildInfo,
}

/// Where api-service and db-service answer, and how long web-service waits for them.
#[derive(Debug, Clone)]
pub struct BackendsConfig {
    /// `API_URL` (default `http://127.0.0.1:8000`).
    pub api_url: String,
    /// `COUNTER_URL` (default `http://127.0.0.1:8001`).
    pub counter_url: String,
    /// `BACKEND_TIMEOUT` (default `2s`): the most one backend call may take, connecting
    /// included. A page waits for its backends in parallel, so this bounds a page's latency.
    pub timeout: Duration,
}

/// The static files (CSS, favicon) and how long browsers may cache them.
#[derive(Debug, Clone)]
pub struct AssetsConfig {
    /// `STATIC_DIR` (default: the crate's `static/` folder, for `cargo run`).
    pub dir: PathBuf,
    /// `STATIC_MAX_AGE_SECONDS` (default 3600): 0 makes browsers revalidate every time, what a
    /// developer editing the CSS wants.
    pub max_age_seconds: u32,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            server: ServerConfig::from_env(DEFAULT_PORT)?,
            backends: BackendsConfig::from_env()?,
            assets: AssetsConfig::from_env()?,
            build: BuildInfo::from_env()?,
        })
    }
}

impl BackendsConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            api_url: base_url(
                "API_URL",
                &format!("http://127.0.0.1:{}", catalogue::API_SERVICE_PORT),
            )?,
            counter_url: base_url(
                "COUNTER_URL",
                &format!("http://127.0.0.1:{}", catalogue::DB_SERVICE_PORT),
            )?,
            timeout: config::duration_or("BACKEND_TIMEOUT", Duration::from_secs(2))?,
        })
    }
}

impl AssetsConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        let default_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/static");
        Ok(Self {
            dir: PathBuf::from(config::string_or("STATIC_DIR", default_dir)?),
            max_age_seconds: config::parse_or(
                "STATIC_MAX_AGE_SECONDS",
                3600,
                "a number of seconds",
            )?,
        })
    }
}

/// An `http://` base URL without its trailing slash, so paths can be appended.
fn base_url(variable: &str, default: &str) -> Result<String, ConfigError> {
    let url = config::string_or(variable, default)?;
    let parsed = reqwest::Url::parse(&url);
    let is_base = parsed
        .as_ref()
        .is_ok_and(|parsed| parsed.scheme() == "http" && parsed.host_str().is_some());
    if !url.starts_with("http://") || !is_base {
        return Err(ConfigError::new(
            format!("{variable}={url:?}"),
            "expected an http:// URL such as http://api-service:8000",
        ));
    }
    Ok(url.trim_end_matches('/').to_owned())
}
