//! The HTTP server every service runs: its settings, binding, and serving until SIGTERM or
//! SIGINT, then finishing the requests under way.
//!
//! The connections are hyper's, driven here rather than by `axum::serve`, which sets no timer
//! and no limit: a client that sends half a request line and stalls would hold its connection,
//! and its memory, for ever. See [`ConnectionLimits`].

use std::{
    future::Future,
    io,
    net::{Ipv4Addr, SocketAddr},
    pin::pin,
    sync::Arc,
    time::Duration,
};

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
    service::TowerToHyperService,
};
use tokio::{net::TcpListener, sync::Semaphore};

use crate::{
    config::{self, ConfigError},
    shutdown,
    telemetry::metrics::Metrics,
};

/// How long requests under way may run after a shutdown signal. Docker sends SIGKILL 10 s after
/// SIGTERM; finishing before that keeps the exit clean.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Settings every service's server reads from the environment.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// `PORT`: where the server listens, on every interface.
    pub port: u16,
    /// `REQUEST_TIMEOUT` (default `10s`): longer requests are answered with 503.
    pub request_timeout: Duration,
    /// `BODY_LIMIT_BYTES` (default 65536): larger request bodies are answered with 413.
    pub body_limit: usize,
    pub connections: ConnectionLimits,
}

/// What a client may hold of the server, so that slow or greedy clients cannot take its memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// `HEADER_READ_TIMEOUT` (default `5s`): a connection that has not sent a whole request
    /// head this long after it opened, or after its previous response, is closed. hyper has one
    /// timer for both, so this is also the idle keep-alive timeout; clients that pool
    /// connections to the services must drop idle ones sooner (web-service does).
    pub header_read_timeout: Duration,
    /// `MAX_HEADER_BYTES` (default 16384, Node's limit): a larger request line and headers are
    /// answered with 431 and the connection closed.
    pub max_header_bytes: usize,
    /// `MAX_CONNECTIONS` (default 1024): beyond it, new connections wait in the kernel's accept
    /// queue until one closes.
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(5),
            max_header_bytes: 16 * 1024,
            max_connections: 1024,
        }
    }
}

impl ConnectionLimits {
    pub fn from_env() -> Result<Self, ConfigError> {
        let defaults = Self::default();
        let limits = Self {
            header_read_timeout: config::duration_or(
                "HEADER_READ_TIMEOUT",
                defaults.header_read_timeout,
            )?,
            max_header_bytes: config::parse_or(
                "MAX_HEADER_BYTES",
                defaults.max_header_bytes,
                "a size in bytes",
            )?,
            max_connections: config::parse_or(
                "MAX_CONNECTIONS",
                defaults.max_connections,
                "a number of connections",
            )?,
        };
        if limits.header_read_timeout.is_zero() {
            return Err(ConfigError::new(
                "HEADER_READ_TIMEOUT",
                "must be longer than 0s",
            ));
        }
        // Below one typical browser request head, every page load would be refused.
        if limits.max_header_bytes < 1024 {
            return Err(ConfigError::new(
                format!("MAX_HEADER_BYTES={}", limits.max_header_bytes),
                "must be at least 1024",
            ));
        }
        if limits.max_connections == 0 {
            return Err(ConfigError::new("MAX_CONNECTIONS", "must be at least 1"));
        }
        Ok(limits)
    }
}

impl ServerConfig {
    /// Listening on `port`, every other setting at its default.
    pub fn new(port: u16) -> Self {
        Self {
            port,
            request_timeout: Duration::from_secs(10),
            body_limit: 64 * 1024,
            connections: ConnectionLimits::default(),
        }
    }

    pub fn from_env(default_port: u16) -> Result<Self, ConfigError> {
        let defaults = Self::new(config::port_or("PORT", default_port)?);
        Ok(Self {
            request_timeout: config::duration_or("REQUEST_TIMEOUT", defaults.request_timeout)?,
            body_limit: config::parse_or(
                "BODY_LIMIT_BYTES",
                defaults.body_limit,
                "a size in bytes",
            )?,
            connections: ConnectionLimits::from_env()?,
            ..defaults
        })
    }
}

/// Binds `0.0.0.0:{port}`: in a container, loopback would be unreachable from other containers.
pub async fn bind(port: u16) -> io::Result<TcpListener> {
    TcpListener::bind(SocketAddr::from((Ipv4Addr::UNSPECIFIED, port))).await
}

/// Serves `app` within `limits` until `shutdown` completes, then lets requests under way finish
/// for at most [`SHUTDOWN_GRACE`]. Idle keep-alive connections are closed at once, so stopping
/// an idle service takes milliseconds; hyper waits for a request head it has begun to read, so
/// a stalled client holds the stop for at most the header read timeout.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    tracing::info!(
        address = %listener.local_addr()?,
        max_connections = limits.max_connections,
        header_read_timeout = ?limits.header_read_timeout,
        "listening"
    );
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_header_size(limits.max_header_bytes);
    let open_slots = Arc::new(Semaphore::new(limits.max_connections));
    let connections = GracefulShutdown::new();
    let mut shutdown = pin!(shutdown);
    loop {
        // A slot first, then the connection: at the limit, new connections wait in the kernel's
        // accept queue, which costs this process nothing.
        let slot = tokio::select! {
            slot = Arc::clone(&open_slots).acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    pause_after_accept_error(&error).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let connection = connections.watch(
            http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone())),
        );
        tokio::spawn(async move {
            // Timeouts, oversized heads and clients that leave end here; hyper has answered
            // what deserved an answer (431, 400), and a flood of them must not flood the log.
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection closed");
            }
            drop(slot);
        });
    }
    drop(listener);
    tokio::select! {
        () = connections.shutdown() => Ok(()),
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {
            tracing::warn!(grace = ?SHUTDOWN_GRACE, "requests still running at the end of the grace period, closing them");
            Ok(())
        }
    }
}

/// Runs a service until SIGTERM or SIGINT: listens on `config.port` at once and serves `app`,
/// while `prepare`, the service's start-up (reaching its database, migrating it), runs beside
/// it; its health routes say what it waits for meanwhile (`shared::health::warm_up`). A
/// start-up that fails is a bug no retry fixes (a migration that does not apply): the service
/// stops with its error. With `metrics`, `/metrics` answers on a listener of its own.
pub async fn run<E>(
    config: &ServerConfig,
    app: Router,
    prepare: impl Future<Output = Result<(), E>>,
    metrics: Option<Metrics>,
) -> Result<(), Stopped<E>> {
    let listener = bind(config.port).await.map_err(|source| Stopped::Listen {
        port: config.port,
        source,
    })?;
    if let Some(metrics) = metrics {
        let port = metrics.port();
        let listener = bind(port)
            .await
            .map_err(|source| Stopped::Listen { port, source })?;
        tokio::spawn(async move {
            if let Err(error) = metrics.serve(listener, shutdown::signal()).await {
                tracing::error!(%error, "the metrics listener failed");
            }
        });
    }
    let mut serve = pin!(serve(listener, app, config.connections, shutdown::signal()));
    tokio::select! {
        served = &mut serve => served.map_err(Stopped::Server),
        prepared = prepare => match prepared {
            Ok(()) => serve.await.map_err(Stopped::Server),
            Err(error) => Err(Stopped::StartUp(error)),
        },
    }
}

/// Why [`run`] returned early.
#[derive(Debug, thiserror::Error)]
pub enum Stopped<E> {
    #[error("cannot listen on port {port}")]
    Listen {
        port: u16,
        #[source]
        source: io::Error,
    },
    #[error("the server failed")]
    Server(#[source] io::Error),
    #[error("the start-up failed")]
    StartUp(#[source] E),
}

/// A failed accept is about one connection (it was reset before it was accepted) or about the
/// process (out of file descriptors). The second would fail again at once, so wait a moment,
/// as `axum::serve` does.
async fn pause_after_accept_error(error: &io::Error) {
    let about_one_connection = matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    );
    if !about_one_connection {
        tracing::error!(%error, "cannot accept connections, retrying in 1s");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
