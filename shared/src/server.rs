//! The HTTP server every service runs: shared middleware, binding, and serving until SIGTERM or
//! SIGINT, then finishing the requests under way.

use std::{
    any::Any,
    future::{Future, IntoFuture},
    io,
    net::{Ipv4Addr, SocketAddr},
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{
    Router,
    extract::{DefaultBodyLimit, Request, State},
    http::StatusCode,
    middleware::{self, Next},
    response::{IntoResponse, Response},
};
use tokio::{net::TcpListener, sync::Notify};
use tower_http::catch_panic::CatchPanicLayer;

use crate::{
    config::{self, ConfigError},
    error::ApiError,
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
}

impl ServerConfig {
    pub fn from_env(default_port: u16) -> Result<Self, ConfigError> {
        Ok(Self {
            port: config::port_or("PORT", default_port)?,
            request_timeout: config::duration_or("REQUEST_TIMEOUT", Duration::from_secs(10))?,
            body_limit: config::parse_or("BODY_LIMIT_BYTES", 64 * 1024, "a size in bytes")?,
        })
    }
}

/// Wraps `routes` in the middleware all services share. From the outside in: one log line per
/// request, a panic answered as a 500 (the server keeps running), the request timeout, and the
/// body size limit.
pub fn with_middleware(routes: Router, config: &ServerConfig) -> Router {
    routes
        .layer(DefaultBodyLimit::max(config.body_limit))
        .layer(middleware::from_fn_with_state(
            config.request_timeout,
            enforce_timeout,
        ))
        .layer(CatchPanicLayer::custom(answer_panic))
        .layer(middleware::from_fn(log_request))
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

async fn enforce_timeout(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "the request timed out").into_response()
        }
    }
}

/// The panic itself was logged by the hook `telemetry::init` installs.
fn answer_panic(_panic: Box<dyn Any + Send + 'static>) -> Response {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal server error").into_response()
}

async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    // Rounded to 10 µs: more digits are noise, and floats print them all.
    let latency_ms = (started.elapsed().as_secs_f64() * 100_000.0).round() / 100.0;
    macro_rules! log {
        ($level:ident) => {
            tracing::$level!(%method, %path, status, latency_ms, "request")
        };
    }
    if response.status().is_server_error() {
        log!(warn);
    } else if path == "/health" {
        // Health checks arrive every few seconds; at info they would drown the real traffic.
        log!(debug);
    } else {
        log!(info);
    }
    response
}

#[cfg(test)]
mod tests {
    use axum::{body::Body, http::Request, routing::get};
    use tower::ServiceExt;

    use super::*;

    fn app(routes: Router) -> Router {
        let config = ServerConfig {
            port: 0,
            request_timeout: Duration::from_millis(100),
            body_limit: 1024,
        };
        with_middleware(routes, &config)
    }

    async fn call(app: Router, path: &str) -> (StatusCode, String) {
        let request = Request::get(path).body(Body::empty()).unwrap();
        let response = app.oneshot(request).await.unwrap();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn a_request_slower_than_the_timeout_is_answered_503_in_json() {
        let slow = Router::new().route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "too late"
            }),
        );
        let started = Instant::now();
        let answer = call(app(slow), "/slow").await;
        assert_eq!(
            answer,
            (
                StatusCode::SERVICE_UNAVAILABLE,
                r#"{"error":"the request timed out"}"#.to_owned()
            )
        );
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    async fn panics() -> &'static str {
        panic!("a bug in a handler")
    }

    #[tokio::test]
    async fn a_panicking_handler_is_answered_500_and_the_server_keeps_serving() {
        let routes = Router::new()
            .route("/panic", get(panics))
            .route("/fine", get(|| async { "still here" }));
        let app = app(routes);
        let panicked = call(app.clone(), "/panic").await;
        assert_eq!(
            panicked,
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                r#"{"error":"internal server error"}"#.to_owned()
            )
        );
        assert_eq!(
            call(app, "/fine").await,
            (StatusCode::OK, "still here".to_owned())
        );
    }
}
