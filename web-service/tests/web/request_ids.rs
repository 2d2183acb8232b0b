//! One page load, followed through the three services' logs by its request id, with the cause
//! of what degraded the page on the line that says so.

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use serde_json::{Value, json};
use shared::telemetry::{self, LogFormat, TelemetryConfig};
use test_support::{
    logs::{CaptureGuard, LogCapture},
    redis::RedisServer,
};

use crate::helpers::{Stack, views};

/// The JSON lines this test's thread logs: the three services' lines, as they all run on it.
fn capture_json_logs() -> (LogCapture, CaptureGuard) {
    LogCapture::this_thread(|writer| {
        let json = TelemetryConfig::new("info", LogFormat::Json).unwrap();
        telemetry::subscriber(json, writer, false)
    })
}

async fn load_home(stack: &Stack, request_id: &str) -> test_support::http::Reply {
    let request = Request::get("/")
        .header("x-request-id", request_id)
        .body(Body::empty())
        .unwrap();
    stack.send(request).await
}

/// The access-log lines of one request id: (path, status), sorted.
fn answers(lines: &[Value]) -> Vec<(String, i64)> {
    let mut answers: Vec<(String, i64)> = lines
        .iter()
        .filter(|line| line["message"] == "request")
        .map(|line| {
            (
                line["path"].as_str().unwrap().to_owned(),
                line["status"].as_i64().unwrap(),
            )
        })
        .collect();
    answers.sort();
    answers
}

fn the_line<'a>(lines: &'a [Value], message: &str) -> &'a Value {
    let mut matching = lines.iter().filter(|line| line["message"] == message);
    let line = matching
        .next()
        .unwrap_or_else(|| panic!("no line {message:?} in {lines:#?}"));
    assert!(matching.next().is_none(), "{message:?} logged twice");
    line
}

#[tokio::test]
async fn with_redis_down_one_id_links_the_degraded_page_to_the_cause_in_db_service() {
    let (logs, _guard) = capture_json_logs();
    let redis = RedisServer::start();
    let stack = Stack::start_on_redis(&redis.url(), "trace:", None).await;
    redis.stop();

    let reply = load_home(&stack, "page-load-1").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(views(&reply), None, "the counter shows as unavailable");
    assert_eq!(reply.header("x-request-id"), "page-load-1");

    let lines = logs.of_request("page-load-1");
    assert_eq!(
        answers(&lines),
        [
            ("/".to_owned(), 200),
            ("/hits/web:home".to_owned(), 503),
            ("/tasks".to_owned(), 200)
        ],
        "web-service, db-service and api-service each logged the request under its id"
    );
    let in_db_service = the_line(&lines, "answered 503: a dependency is unavailable");
    assert_eq!(in_db_service["dependency"], "redis");
    // Then redis's own words: "broken pipe" for the connection Redis dropped, or "Connection
    // refused (os error 111)" once the connection manager tried again.
    let cause = in_db_service["error"].as_str().unwrap();
    assert!(
        cause.starts_with("Redis command HINCRBY failed: "),
        "{cause}"
    );
    let in_web_service = the_line(&lines, "backend call failed, the page degrades");
    assert_eq!(
        (&in_web_service["backend"], &in_web_service["error"]),
        (
            &json!("db-service"),
            &json!(
                "db-service is unavailable: it answered 503 Service Unavailable: \
                 redis is unavailable, try again shortly"
            )
        )
    );
}

#[tokio::test]
async fn with_db_service_down_the_degraded_page_logs_why_the_call_failed() {
    let (logs, _guard) = capture_json_logs();
    let mut stack = Stack::start().await;
    stack.counter.stop().await;

    let reply = load_home(&stack, "page-load-2").await;
    assert_eq!((reply.status, views(&reply)), (StatusCode::OK, None));

    let lines = logs.of_request("page-load-2");
    assert_eq!(
        answers(&lines),
        [("/".to_owned(), 200), ("/tasks".to_owned(), 200)]
    );
    let failed = the_line(&lines, "backend call failed, the page degrades");
    assert_eq!(
        failed["error"],
        format!(
            "db-service is unavailable: no answer: error sending request for url \
             ({}/hits/web:home): client error (Connect): tcp connect error: \
             Connection refused (os error 111)",
            stack.counter.url()
        )
    );
    for line in logs.lines() {
        for key in ["timestamp", "level", "target", "message"] {
            assert!(line[key].is_string(), "no {key} in {line}");
        }
    }
}
