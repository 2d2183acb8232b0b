//! The counters in Redis: one hash, `{prefix}hits`, with a field per counter.
//!
//! One hash keeps `GET /hits` a single `HGETALL` instead of a `SCAN` over the keyspace, and
//! `HINCRBY` increments atomically on the server: concurrent hits are never lost.

use std::{
    sync::LazyLock,
    time::{Duration, Instant},
};

use redis::{
    Cmd, ConnectionInfo, FromRedisValue, RedisError,
    aio::{ConnectionManager, ConnectionManagerConfig},
};

use prometheus::HistogramVec;
use shared::telemetry::metrics;

use crate::{config::RedisConfig, key::CounterKey};

/// Every Redis command, timed: a histogram whose `_count` with `outcome="unavailable"` is the
/// number of commands that found Redis down.
static COMMAND_DURATION: LazyLock<HistogramVec> = LazyLock::new(|| {
    metrics::seconds_histogram(
        "redis_command_duration_seconds",
        "Time of a Redis command, by command and outcome (ok, unavailable, error)",
        &["command", "outcome"],
    )
});

/// The counters, through one multiplexed connection that reconnects by itself. Cloning is
/// cheap and shares the connection.
#[derive(Clone)]
pub struct Counters {
    connection: ConnectionManager,
    hash: String,
    timeout: Duration,
}

impl std::fmt::Debug for Counters {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Counters")
            .field("hash", &self.hash)
            .finish_non_exhaustive()
    }
}

impl Counters {
    /// The counters on Redis, which is first connected to by the first command: creating them
    /// never waits. Fails only on settings the connection manager rejects.
    pub fn new(config: &RedisConfig) -> Result<Self, RedisError> {
        let client = redis::Client::open(connection_info(config))?;
        let connection = ConnectionManager::new_lazy_with_config(client, manager_config(config))?;
        Ok(Self {
            connection,
            hash: format!("{}hits", config.key_prefix),
            timeout: config.timeout,
        })
    }

    /// Adds one hit and returns the new count.
    pub async fn increment(&self, key: &CounterKey) -> Result<i64, CommandError> {
        let mut command = redis::cmd("HINCRBY");
        command.arg(&self.hash).arg(key.as_str()).arg(1);
        self.run("HINCRBY", &command).await
    }

    /// The count of one counter; `None` for one never hit, or deleted.
    pub async fn get(&self, key: &CounterKey) -> Result<Option<i64>, CommandError> {
        let mut command = redis::cmd("HGET");
        command.arg(&self.hash).arg(key.as_str());
        self.run("HGET", &command).await
    }

    /// Every counter, sorted by key.
    pub async fn all(&self) -> Result<Vec<(String, i64)>, CommandError> {
        let mut command = redis::cmd("HGETALL");
        command.arg(&self.hash);
        let mut counters: Vec<(String, i64)> = self.run("HGETALL", &command).await?;
        counters.sort_unstable_by(|(a, _), (b, _)| a.cmp(b));
        Ok(counters)
    }

    /// Removes one counter; removing one that does not exist is not an error.
    pub async fn delete(&self, key: &CounterKey) -> Result<(), CommandError> {
        let mut command = redis::cmd("HDEL");
        command.arg(&self.hash).arg(key.as_str());
        self.run("HDEL", &command).await
    }

    pub async fn ping(&self) -> Result<(), CommandError> {
        self.run("PING", &redis::cmd("PING")).await
    }

    /// Runs one command, bounded by `REDIS_TIMEOUT` as a whole: the connection manager's own
    /// timeouts do not cover a reconnection still resolving the host name, which in a Compose
    /// network with Redis stopped can take far longer than any client waits. Each is timed in
    /// [`COMMAND_DURATION`].
    async fn run<T: FromRedisValue>(
        &self,
        name: &'static str,
        command: &Cmd,
    ) -> Result<T, CommandError> {
        let started = metrics::enabled().then(Instant::now);
        let outcome = self.run_untimed(name, command).await;
        if let Some(started) = started {
            let label = match &outcome {
                Ok(_) => "ok",
                Err(error) if error.is_unavailable() => "unavailable",
                Err(_) => "error",
            };
            COMMAND_DURATION
                .with_label_values(&[name, label])
                .observe(started.elapsed().as_secs_f64());
        }
        outcome
    }

    async fn run_untimed<T: FromRedisValue>(
        &self,
        name: &'static str,
        command: &Cmd,
    ) -> Result<T, CommandError> {
        let mut connection = self.connection.clone();
        match tokio::time::timeout(self.timeout, command.query_async(&mut connection)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(CommandError {
                name,
                cause: Failure::Redis(error),
            }),
            Err(_) => Err(CommandError {
                name,
                cause: Failure::NoAnswer(self.timeout),
            }),
        }
    }
}

/// A Redis command that failed: which one, and why (redis's error alone, often "broken pipe"
/// or "Connection refused", would not say what was being done).
#[derive(Debug, thiserror::Error)]
#[error("Redis command {name} failed")]
pub struct CommandError {
    name: &'static str,
    #[source]
    cause: Failure,
}

#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error(transparent)]
    Redis(RedisError),
    #[error("no answer within {0:?}")]
    NoAnswer(Duration),
}

impl CommandError {
    /// Whether Redis cannot be reached right now (503), rather than a bug (500).
    pub fn is_unavailable(&self) -> bool {
        let error = match &self.cause {
            Failure::NoAnswer(_) => return true,
            Failure::Redis(error) => error,
        };
        error.is_io_error()
            || error.is_timeout()
            || error.is_connection_dropped()
            || error.is_connection_refusal()
            || matches!(
                error.kind(),
                redis::ErrorKind::Server(
                    redis::ServerErrorKind::BusyLoading | redis::ServerErrorKind::MasterDown
                )
            )
    }
}

/// Redis's address, with connections that break once Redis's machine has not acknowledged what
/// was sent for `config.timeout` (`TCP_USER_TIMEOUT`). When the node that runs Redis dies, the
/// connection goes silent rather than closed, and the connection manager, which reconnects only
/// a broken connection, would send into it forever, even after Redis is back at a new address
/// (seen on a three-node swarm: deploy/swarm/cluster.py). Broken, it reconnects, resolving the
/// name again. A Redis that is only slow is not cut off: its machine acknowledges at once.
fn connection_info(config: &RedisConfig) -> ConnectionInfo {
    let info = config.client.get_connection_info().clone();
    #[cfg(target_os = "linux")]
    let info = info
        .set_tcp_settings(redis::io::tcp::TcpSettings::default().set_user_timeout(config.timeout));
    info
}

/// Each connection attempt and each answer is bounded by `config.timeout`, and a broken
/// connection is retried once in the background: a request during an outage gets its error (a
/// 503) instead of waiting for Redis.
fn manager_config(config: &RedisConfig) -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(Some(config.timeout))
        .set_response_timeout(Some(config.timeout))
        .set_number_of_retries(1)
        .set_max_delay(Duration::from_millis(200))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn connections_give_up_on_a_silent_redis_after_the_redis_timeout() {
        let config = RedisConfig {
            timeout: Duration::from_millis(750),
            ..RedisConfig::new(redis::Client::open("redis://redis:6379/").unwrap())
        };
        let info = connection_info(&config);
        assert_eq!(
            info.tcp_settings().user_timeout(),
            Some(Duration::from_millis(750))
        );
        assert_eq!(info.addr().to_string(), "redis:6379");
    }
}
