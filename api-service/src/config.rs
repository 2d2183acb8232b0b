//! api-service's settings, all from environment variables.

use std::{fmt, time::Duration};

use shared::{
    config::{self, ConfigError},
    http::server::ServerConfig,
};
use sqlx::postgres::PgConnectOptions;

/// The port the service listens on unless `PORT` says otherwise: the catalogue's.
pub const DEFAULT_PORT: u16 = shared::catalogue::API_SERVICE_PORT;

#[derive(Debug)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
}

/// Where PostgreSQL is and how the pool uses it.
#[derive(Clone)]
pub struct DatabaseConfig {
    pub connect: PgConnectOptions,
    /// `DATABASE_MAX_CONNECTIONS` (default 10).
    pub max_connections: u32,
    /// `DATABASE_ACQUIRE_TIMEOUT` (default `1s`): how long a request waits for a connection
    /// before answering 503. A failed wait adds a connection attempt of at most 0.5 s that
    /// finds out why; keep both below the caller's timeout (web-service's `BACKEND_TIMEOUT`,
    /// 2 s), or the caller gives up first and the cause is never logged.
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
    /// The database at `connect`, every other setting at its default.
    pub fn new(connect: PgConnectOptions) -> Self {
        Self {
            connect,
            max_connections: 10,
            acquire_timeout: Duration::from_secs(1),
        }
    }

    /// `DATABASE_URL` (or `DATABASE_URL_FILE`), or else the variables of the official postgres
    /// image: `POSTGRES_HOST`, `POSTGRES_PORT`, `POSTGRES_USER`, `POSTGRES_PASSWORD` (or
    /// `POSTGRES_PASSWORD_FILE`) and `POSTGRES_DB`.
    pub fn from_env() -> Result<Self, ConfigError> {
        let defaults = Self::new(match config::secret("DATABASE_URL")? {
            Some(url) => parse_url(&url)?,
            None => from_parts()?,
        });
        Ok(Self {
            max_connections: config::parse_or(
                "DATABASE_MAX_CONNECTIONS",
                defaults.max_connections,
                "a number of connections",
            )?,
            acquire_timeout: config::duration_or(
                "DATABASE_ACQUIRE_TIMEOUT",
                defaults.acquire_timeout,
            )?,
            ..defaults
        })
    }
}

/// sqlx's own `Debug` of the connect options prints the password: this one names where the
/// database is and leaves the password out.
impl fmt::Debug for DatabaseConfig {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("DatabaseConfig")
            .field("host", &self.connect.get_host())
            .field("port", &self.connect.get_port())
            .field("username", &self.connect.get_username())
            .field("database", &self.connect.get_database())
            .field("max_connections", &self.max_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .finish_non_exhaustive()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_debug_form_says_where_the_database_is_but_not_the_password() {
        let config = DatabaseConfig::new(
            parse_url("postgres://tasks:s3cret-pw@db.internal:6543/tasks").unwrap(),
        );
        assert_eq!(
            format!("{config:?}"),
            r#"DatabaseConfig { host: "db.internal", port: 6543, username: "tasks", database: Some("tasks"), max_connections: 10, acquire_timeout: 1s, .. }"#
        );
        assert!(
            format!("{:?}", config.connect).contains("s3cret-pw"),
            "sqlx's own Debug prints it: the reason for ours"
        );
    }
}
