//! Redis going away and coming back, on a server of the test's own that it stops.

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use serde_json::json;
use shared::{api::NOT_ACTED_ON, http::server::ServerConfig};
use test_support::{http::TestRouter, redis::RedisServer};

use crate::helpers::{app_for, redis_config, state_for};

#[tokio::test]
async fn redis_going_down_answers_503_promptly_and_the_service_recovers_when_it_returns() {
    let server = RedisServer::start();
    let app = app_for(&redis_config(&server.url(), "outage:")).await;
    assert_eq!(app.call(Method::POST, "/hits/x").await.body["hits"], 1);

    server.stop();
    for _ in 0..3 {
        let started = Instant::now();
        let reply = app.call(Method::POST, "/hits/x").await;
        assert_eq!(
            reply.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{}",
            reply.text()
        );
        assert_eq!(reply.error(), "redis is unavailable, try again shortly");
        assert!(
            !reply.headers.contains_key(NOT_ACTED_ON),
            "Redis may have counted a hit it did not acknowledge: not safe to send elsewhere"
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "took {:?}",
            started.elapsed()
        );
    }
    assert_eq!(
        app.get("/hits").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    let ready = app.get("/ready").await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        ready.body,
        json!({"ready": false, "error": "redis is unavailable", "dependencies": [{"name": "redis", "reachable": false}]})
    );
    assert_eq!(
        app.get("/health").await.status,
        StatusCode::OK,
        "liveness must not depend on Redis"
    );

    server.resume();
    // The connection manager reconnects in the background; give it a moment, not a restart.
    let deadline = Instant::now() + Duration::from_secs(10);
    let reply = loop {
        let reply = app.call(Method::POST, "/hits/x").await;
        if reply.status == StatusCode::OK || Instant::now() > deadline {
            break reply;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // The test server keeps nothing on disk, so the count starts again from 1.
    assert_eq!(
        (reply.status, reply.body),
        (StatusCode::OK, json!({"key": "x", "hits": 1}))
    );
    assert_eq!(app.get("/ready").await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_service_started_before_redis_says_what_it_waits_for_then_serves() {
    let server = RedisServer::start();
    server.stop();
    let state = state_for(&redis_config(&server.url(), "startup:"));
    let app = TestRouter::new(db_service::app(state.clone(), &ServerConfig::new(0)));
    let prepare = tokio::spawn(async move { state.prepare().await });
    test_support::warm_up::assert_waiting_for(&app, "redis").await;
    let hit = app.call(Method::POST, "/hits/x").await;
    assert_eq!(
        (
            hit.status,
            hit.error(),
            hit.header("retry-after"),
            hit.header(NOT_ACTED_ON)
        ),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "starting: waiting for redis to answer",
            "1",
            "starting"
        ),
        "turned away before anything was counted, so another replica may be asked"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        !prepare.is_finished(),
        "start-up gave up instead of waiting for Redis"
    );

    server.resume();
    tokio::time::timeout(Duration::from_secs(30), prepare)
        .await
        .expect("start-up did not notice Redis came back")
        .unwrap();
    assert_eq!(app.get("/health").await.body, json!({"status": "ok"}));
    assert_eq!(app.get("/ready").await.status, StatusCode::OK);
    let hit = app.call(Method::POST, "/hits/x").await;
    assert_eq!(
        (hit.status, hit.body),
        (StatusCode::OK, json!({"key": "x", "hits": 1}))
    );
}
