//! api-service's settings, all from environment variables.

use std::time::Duration;

use shared::{
    config::{self, ConfigError},
    server::ServerConfig,
};
use sqlx::postgres::PgConnectOptions;

pub const DEFAULT_PORT: u16 = 8000;

#[derive(Debug)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
}

/// Where PostgreSQL is and how the pool uses it.
#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    pub connect: PgConnectOptions,
    /// `DATABASE_MAX_CONNECTIONS` (default 10).
    pub max_connections: u32,
    /// `DATABASE_ACQUIRE_TIMEOUT` (default `2s`): how long a request waits for a connection
    /// before answering 503. Keep it below `REQUEST_TIMEOUT`.
    pub acquire_timeout: Duration,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            server: ServerConfig::from_env(DEFAULT_PORT)?,
            database: DatabaseConfig::from_env()?,
        })
    }
}

impl DatabaseConfig {
    /// `DATABASE_URL` (or `DATABASE_URL_FILE`), or else the variables of the official postgres
    /// image: `POSTGRES_HOST`, `POSTGRES_PORT`, `POSTGRES_USER`, `POSTGRES_PASSWORD` (or
    /// `POSTGRES_PASSWORD_FILE`) and `POSTGRES_DB`.
    pub fn from_env() -> Result<Self, ConfigError> {
        let connect = match config::secret("DATABASE_URL")? {
            Some(url) => parse_url(&url)?,
            None => from_parts()?,
        };
        Ok(Self {
            connect,
            max_connections: config::parse_or(
                "DATABASE_MAX_CONNECTIONS",
                10,
                "a number of connections",
            )?,
            acquire_timeout: config::duration_or(
                "DATABASE_ACQUIRE_TIMEOUT",
                Duration::from_secs(2),
            )?,
        })
    }
}

/// sqlx parses any scheme; a `mysql://` URL must not quietly become `localhost:5432`. The
/// message never repeats the URL: it may hold the password.
fn parse_url(url: &str) -> Result<PgConnectOptions, ConfigError> {
    let not_postgres = |detail: String| {
        ConfigError::new("DATABASE_URL", format!("not a PostgreSQL URL: {detail}"))
    };
    let scheme = url.split_once("://").map(|(scheme, _)| scheme);
    if !matches!(scheme, Some("postgres" | "postgresql")) {
        return Err(not_postgres(
            "it must start with postgres:// or postgresql://".to_owned(),
        ));
    }
    url.parse()
        .map_err(|error: sqlx::Error| not_postgres(error.to_string()))
}

fn from_parts() -> Result<PgConnectOptions, ConfigError> {
    let Some(host) = config::optional("POSTGRES_HOST")? else {
        return Err(ConfigError::new(
            "DATABASE_URL",
            "not set: set DATABASE_URL (or DATABASE_URL_FILE), or POSTGRES_HOST with \
             POSTGRES_USER, POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE) and POSTGRES_DB",
        ));
    };
    let user = config::string_or("POSTGRES_USER", "postgres")?;
    // The official image's default: the database is named after the user.
    let database = config::string_or("POSTGRES_DB", &user)?;
    let mut options = PgConnectOptions::new()
        .host(&host)
        .port(config::port_or("POSTGRES_PORT", 5432)?)
        .username(&user)
        .database(&database);
    if let Some(password) = config::secret("POSTGRES_PASSWORD")? {
        options = options.password(&password);
    }
    Ok(options)
}
