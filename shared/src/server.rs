//! The HTTP server every service runs: its settings, binding, and serving until SIGTERM or
//! SIGINT, then finishing the requests under way.

use std::{
    future::{Future, IntoFuture},
    io,
    net::{Ipv4Addr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use axum::Router;
use tokio::{net::TcpListener, sync::Notify};

use crate::config::{self, ConfigError};

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
}

impl ServerConfig {
    /// Listening on `port`, every other setting at its default.
    pub fn new(port: u16) -> Self {
        Self {
            port,
            request_timeout: Duration::from_secs(10),
            body_limit: 64 * 1024,
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
            ..defaults
        })
    }
}

/// Binds `0.0.0.0:{port}`: in a container, loopback would be unreachable from other containers.
pub async fn bind(port: u16) -> io::Result<TcpListener> {
    TcpListener::bind(SocketAddr::from((Ipv4Addr::UNSPECIFIED, port))).await
}

/// Serves `app` until `shutdown` completes, then lets requests under way finish for at most
/// [`SHUTDOWN_GRACE`]. Idle keep-alive connections are closed at once, so stopping an idle
/// service takes milliseconds.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    tracing::info!(address = %listener.local_addr()?, "listening");
    let stopping = Arc::new(Notify::new());
    let notify_stopping = Arc::clone(&stopping);
    let server = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            notify_stopping.notify_one();
        })
        .into_future();
    let grace_expired = async {
        stopping.notified().await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        result = server => result,
        () = grace_expired => {
            tracing::warn!(grace = ?SHUTDOWN_GRACE, "requests still running at the end of the grace period, closing them");
            Ok(())
        }
    }
}
