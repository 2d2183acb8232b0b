//! The layers every service's routes run inside. From the outside in:
//!
//! 1. the request's id (a received `x-request-id` when it is sane, else a new one; copied onto
//!    the response), its span, its access-log line, also when the client leaves before the
//!    answer (status 499), and its metrics by route template ([`access_log`]);
//! 2. a panicking handler is answered with a 500, and the server keeps serving;
//! 3. a request slower than `REQUEST_TIMEOUT` is answered with a 503 ([`crate::http::deadline`]);
//! 4. a body over `BODY_LIMIT_BYTES` is answered with a 413.

use std::any::Any;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;

use crate::{
    error::ApiError,
    health::warm_up::GateLayer,
    http::{deadline::DeadlineLayer, server::ServerConfig},
    telemetry::access_log::AccessLogLayer,
};

/// Wraps `routes` in the layers listed above, as one stack: each `Router::layer` call would box
/// every route once more, and clone each box on every request.
pub fn with_middleware(routes: Router, config: &ServerConfig) -> Router {
    with_middleware_and_gate(routes, config, None)
}

/// [`with_middleware`], and innermost `gate`, which holds requests back while the service
/// starts (a JSON service's, [`crate::http::router::json_service`]).
pub fn with_middleware_and_gate(
    routes: Router,
    config: &ServerConfig,
    gate: Option<GateLayer>,
) -> Router {
    routes.layer(
        ServiceBuilder::new()
            .layer(AccessLogLayer)
            .layer(CatchPanicLayer::custom(answer_panic))
            .layer(DeadlineLayer::new(config.request_timeout))
            .layer(DefaultBodyLimit::max(config.body_limit))
            .option_layer(gate),
    )
}

/// The panic itself was logged, inside the request's span, by the hook `telemetry::init`
/// installs.
fn answer_panic(_panic: Box<dyn Any + Send + 'static>) -> Response {
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal server error").into_response()
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use axum::{body::Body, extract::Request, http::HeaderValue, routing::get};
    use serde_json::Value;
    use test_support::logs::{CaptureGuard, LogCapture};
    use tower::ServiceExt;

    use super::*;
    use crate::telemetry::{self, LogFormat, TelemetryConfig, request_id};

    fn app(routes: Router) -> Router {
        let config = ServerConfig {
            request_timeout: Duration::from_millis(100),
            body_limit: 1024,
            ..ServerConfig::new(0)
        };
        with_middleware(routes, &config)
    }

    async fn call(app: Router, request: Request) -> (StatusCode, Option<HeaderValue>, String) {
        let response = app.oneshot(request).await.unwrap();
        let status = response.status();
        let id = response.headers().get(request_id::HEADER).cloned();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, id, String::from_utf8(body.to_vec()).unwrap())
    }

    /// `/slow` answers after 5 s, longer than the tests' timeout and patience.
    fn slow() -> Router {
        Router::new().route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "too late"
            }),
        )
    }

    fn get_request(path: &str) -> Request {
        Request::get(path).body(Body::empty()).unwrap()
    }

    /// The JSON log lines of this test's thread, captured until the guard is dropped.
    fn json_logs() -> (LogCapture, CaptureGuard) {
        LogCapture::this_thread(|writer| {
            let config = TelemetryConfig::new("info", LogFormat::Json).unwrap();
            telemetry::subscriber(config, writer, false)
        })
    }

    fn with_id(path: &str, id: &str) -> Request {
        Request::get(path)
            .header(request_id::HEADER, id)
            .body(Body::empty())
            .unwrap()
    }

    #[tokio::test]
    async fn a_request_slower_than_the_timeout_is_answered_503_in_json() {
        let started = Instant::now();
        let (status, _, body) = call(app(slow()), get_request("/slow")).await;
        assert_eq!(
            (status, body.as_str()),
            (
                StatusCode::SERVICE_UNAVAILABLE,
                r#"{"error":"the request timed out"}"#
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
        let (status, _, body) = call(app.clone(), get_request("/panic")).await;
        assert_eq!(
            (status, body.as_str()),
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                r#"{"error":"internal server error"}"#
            )
        );
        let (status, _, body) = call(app, get_request("/fine")).await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "still here"));
    }

    #[tokio::test]
    async fn a_sane_request_id_is_returned_and_any_other_replaced_by_a_new_uuid() {
        let app = app(Router::new().route("/", get(|| async { "ok" })));
        let (_, kept, _) = call(app.clone(), with_id("/", "page-42")).await;
        assert_eq!(kept.unwrap(), "page-42");

        let mut made = Vec::new();
        for request in [
            get_request("/"),
            with_id("/", "has spaces"),
            with_id("/", &"x".repeat(129)),
        ] {
            let (_, id, _) = call(app.clone(), request).await;
            let id = id.unwrap().to_str().unwrap().to_owned();
            // A version-4 UUID: 8-4-4-4-12 hexadecimal digits.
            let groups: Vec<usize> = id.split('-').map(str::len).collect();
            assert_eq!(groups, [8, 4, 4, 4, 12], "{id}");
            made.push(id);
        }
        made.sort();
        made.dedup();
        assert_eq!(made.len(), 3, "each request gets an id of its own");
    }

    #[tokio::test]
    async fn every_json_line_of_a_request_carries_its_id_and_the_access_line_its_facts() {
        let (capture, _logging) = json_logs();
        let routes = Router::new().route(
            "/tasks",
            get(|| async {
                let refused = std::io::Error::new(
                    std::io::ErrorKind::ConnectionRefused,
                    "connection refused",
                );
                ApiError::unavailable("the database", &refused)
            }),
        );
        let app = app(routes);
        call(app.clone(), with_id("/tasks", "trace-me")).await;
        call(app, with_id("/health", "probe")).await;

        let lines = capture.lines();
        for line in &lines {
            for key in ["timestamp", "level", "target", "message"] {
                assert!(line[key].is_string(), "no {key} in {line}");
            }
        }
        let request = capture.of_request("trace-me");
        let [cause, access] = request.as_slice() else {
            panic!("expected the cause and the access line: {request:?}");
        };
        assert_eq!(
            (&cause["level"], &cause["dependency"], &cause["error"]),
            (
                &Value::from("WARN"),
                &Value::from("the database"),
                &Value::from("connection refused")
            )
        );
        assert_eq!(
            (
                &access["message"],
                &access["level"],
                &access["method"],
                &access["path"],
                &access["status"]
            ),
            (
                &Value::from("request"),
                &Value::from("WARN"),
                &Value::from("GET"),
                &Value::from("/tasks"),
                &Value::from(503)
            )
        );
        assert!(access["latency_ms"].as_f64().is_some(), "{access}");
        assert!(
            capture.of_request("probe").is_empty(),
            "/health is logged at debug only"
        );
    }

    #[tokio::test]
    async fn a_request_whose_client_leaves_before_the_answer_is_logged_with_status_499() {
        let (capture, _logging) = json_logs();
        let call = app(slow()).oneshot(with_id("/slow", "gone-away"));
        // The client gives up: the server drops the future serving the request.
        assert!(
            tokio::time::timeout(Duration::from_millis(30), call)
                .await
                .is_err()
        );
        let lines = capture.of_request("gone-away");
        let [line] = lines.as_slice() else {
            panic!("expected one access line: {lines:?}");
        };
        assert_eq!(
            (&line["message"], &line["status"], &line["path"]),
            (
                &Value::from("request"),
                &Value::from(499),
                &Value::from("/slow")
            )
        );
    }
}
