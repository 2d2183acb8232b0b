//! What a service says while it waits for its database (`shared::health::warm_up`), asked the same way
//! of both services, through their router or their binary.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::json;

use crate::{binary, http::TestRouter};

/// Waits (10 s at most) until `app` says it waits for `dependency`, then asserts what its
/// health routes answer: alive, since no restart brings a database back; not ready; saying why.
pub async fn assert_waiting_for(app: &TestRouter, dependency: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.get("/health").await.body["status"] != "waiting" {
        assert!(Instant::now() < deadline, "never said it was waiting");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let why = format!("starting: waiting for {dependency} to answer");
    let health = app.get("/health").await;
    assert_eq!(
        (health.status, health.body),
        (
            StatusCode::OK,
            json!({"status": "waiting", "waiting_for": dependency, "error": why})
        )
    );
    let ready = app.get("/ready").await;
    assert_eq!(
        (ready.status, ready.body),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"ready": false, "error": why,
                   "dependencies": [{"name": dependency, "reachable": false}]})
        )
    );
}

/// The same of the binary at `path` listening on `port`: its `healthcheck` mode passes (so no
/// orchestrator restarts it over an outage), and its own server says what it waits for.
pub async fn assert_binary_waiting_for(path: &str, port: u16, dependency: &str) {
    binary::wait_until_healthy(path, port).await;
    let health = binary::http_get(port, "/health", None);
    let why = format!("starting: waiting for {dependency} to answer");
    let body = format!(r#"{{"status":"waiting","waiting_for":"{dependency}","error":"{why}"}}"#);
    assert!(health.ends_with(&body), "{health}");
    let ready = binary::http_get(port, "/ready", None);
    assert!(ready.starts_with("HTTP/1.1 503"), "{ready}");
    assert!(ready.contains(&format!(r#""error":"{why}""#)), "{ready}");
}
