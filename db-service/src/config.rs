//! db-service's settings, all from environment variables.

use std::time::Duration;

use shared::{
    config::{self, ConfigError},
    http::server::ServerConfig,
};

/// The port the service listens on unless `PORT` says otherwise: the catalogue's.
pub const DEFAULT_PORT: u16 = shared::catalogue::DB_SERVICE_PORT;

#[derive(Debug)]
pub struct Config {
    pub server: ServerConfig,
    pub redis: RedisConfig,
}

/// Where Redis is and how db-service uses it.
#[derive(Debug, Clone)]
pub struct RedisConfig {
    /// `REDIS_URL` (or `REDIS_URL_FILE`, as it may hold a password).
    pub client: redis::Client,
    /// `REDIS_KEY_PREFIX` (default `lab:`): every key db-service writes starts with it, so tests
    /// and several stacks can share one Redis.
    pub key_prefix: String,
    /// `REDIS_TIMEOUT` (default `1s`): the most a connection attempt or a command may take
    /// before the request is answered with 503.
    pub timeout: Duration,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            server: ServerConfig::from_env(DEFAULT_PORT)?,
            redis: RedisConfig::from_env()?,
        })
    }
}

impl RedisConfig {
    /// Redis at `client`, every other setting at its default.
    pub fn new(client: redis::Client) -> Self {
        Self {
            client,
            key_prefix: "lab:".to_owned(),
            timeout: Duration::from_secs(1),
        }
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        let url = config::secret("REDIS_URL")?
            .ok_or_else(|| ConfigError::new("REDIS_URL", "not set, e.g. redis://127.0.0.1:6379"))?;
        // The message never repeats the URL: it may hold the password.
        let client = redis::Client::open(url.as_str())
            .map_err(|error| ConfigError::new("REDIS_URL", format!("not a Redis URL: {error}")))?;
        let defaults = Self::new(client);
        Ok(Self {
            key_prefix: config::string_or("REDIS_KEY_PREFIX", &defaults.key_prefix)?,
            timeout: config::duration_or("REDIS_TIMEOUT", defaults.timeout)?,
            ..defaults
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_debug_form_never_shows_the_password() {
        let client = redis::Client::open("redis://lab:s3cret-pw@redis.internal:6380/2").unwrap();
        let printed = format!("{:?}", RedisConfig::new(client));
        assert!(printed.contains("redis.internal"), "{printed}");
        assert!(!printed.contains("s3cret-pw"), "{printed}");
    }
}
