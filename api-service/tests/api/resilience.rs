//! PostgreSQL going away and coming back, on a server of the test's own that it stops.

use std::time::{Duration, Instant};

use api_service::{AppState, config::DatabaseConfig, postgres};
use axum::{
    body::Body,
    http::{Method, Request, StatusCode},
};
use serde_json::json;
use shared::telemetry::{self, LogFormat, TelemetryConfig};
use test_support::{logs::LogCapture, postgres::PostgresServer};

use crate::helpers::TestApp;

/// The state of a service on `server`, not started yet.
fn state_for(server: &PostgresServer) -> AppState {
    AppState::new(postgres::pool(&DatabaseConfig {
        max_connections: 5,
        acquire_timeout: Duration::from_secs(1),
        ..DatabaseConfig::new(server.connect_options())
    }))
}

/// A service on `server`, started.
async fn started_on(server: &PostgresServer) -> TestApp {
    let state = state_for(server);
    state.prepare().await.unwrap();
    TestApp::on(state)
}

#[tokio::test]
async fn the_database_going_down_answers_503_and_the_service_recovers_when_it_returns() {
    let server = PostgresServer::start();
    let app = started_on(&server).await;
    let id = app.create_task("survives the outage").await;

    server.stop();
    let started = Instant::now();
    let reply = app.get("/tasks").await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        reply.error(),
        "the database is unavailable, try again shortly"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "answered only after {:?}",
        started.elapsed()
    );
    let write = app
        .call_with_json(
            Method::POST,
            "/tasks",
            &json!({"title": "during the outage"}),
        )
        .await;
    assert_eq!(write.status, StatusCode::SERVICE_UNAVAILABLE);
    let ready = app.get("/ready").await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        ready.body,
        json!({"ready": false, "error": "postgres is unavailable", "dependencies": [{"name": "postgres", "reachable": false}]})
    );
    assert_eq!(
        app.get("/health").await.status,
        StatusCode::OK,
        "liveness must not depend on the database"
    );

    server.resume();
    let reply = app.get("/tasks").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let titles: Vec<&str> = reply
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|task| task["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["survives the outage"]);
    assert_eq!(
        app.get(&format!("/tasks/{id}")).await.status,
        StatusCode::OK
    );
    assert_eq!(app.get("/ready").await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_service_started_before_its_database_says_what_it_waits_for_then_serves() {
    let server = PostgresServer::start();
    server.stop();
    let state = state_for(&server);
    let app = TestApp::on(state.clone());
    let prepare = tokio::spawn(async move { state.prepare().await });
    test_support::warm_up::assert_waiting_for(&app, "postgres").await;
    let tasks = app.get("/tasks").await;
    assert_eq!(
        (tasks.status, tasks.error(), tasks.header("retry-after")),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "starting: waiting for postgres to answer",
            "1"
        )
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        !prepare.is_finished(),
        "start-up gave up instead of waiting for the database"
    );

    server.resume();
    tokio::time::timeout(Duration::from_secs(30), prepare)
        .await
        .expect("start-up did not notice the database came back")
        .unwrap()
        .expect("migrations apply once the database is back");
    let health = app.get("/health").await;
    assert_eq!(
        (health.status, health.body),
        (StatusCode::OK, json!({"status": "ok"}))
    );
    assert_eq!(app.get("/ready").await.status, StatusCode::OK);
    assert_eq!(app.get("/tasks").await.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_starting_at_once_on_an_empty_database_migrate_it_once() {
    let server = PostgresServer::start();
    let replicas: Vec<AppState> = (0..8).map(|_| state_for(&server)).collect();
    let mut starting = tokio::task::JoinSet::new();
    for replica in &replicas {
        let replica = replica.clone();
        starting.spawn(async move { replica.prepare().await });
    }
    while let Some(outcome) = starting.join_next().await {
        outcome.unwrap().expect("every replica starts");
    }
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
        .fetch_one(replicas[0].tasks.pool())
        .await
        .unwrap();
    assert_eq!(
        usize::try_from(applied).unwrap(),
        postgres::MIGRATOR.iter().count(),
        "each migration recorded once"
    );
    let app = TestApp::on(replicas[0].clone());
    app.create_task("after a crowded start").await;
}

#[tokio::test]
async fn an_outage_is_logged_with_what_the_database_did_under_the_request_id() {
    let (capture, _capturing) = LogCapture::this_thread(|writer| {
        let json = TelemetryConfig::new("info", LogFormat::Json).unwrap();
        telemetry::subscriber(json, writer, false)
    });
    let server = PostgresServer::start();
    let app = started_on(&server).await;
    server.stop();

    let request = Request::get("/tasks")
        .header("x-request-id", "outage-42")
        .body(Body::empty())
        .unwrap();
    let reply = app.send(request).await;
    assert_eq!(
        (reply.status, reply.error()),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "the database is unavailable, try again shortly"
        ),
        "the client learns nothing of the internals"
    );
    assert_eq!(reply.header("x-request-id"), "outage-42");

    // sqlx may log its own lines about the broken connections; ours are these two.
    let lines = capture.of_request("outage-42");
    let line = |message: &str| {
        lines
            .iter()
            .find(|line| line["message"] == message)
            .unwrap_or_else(|| panic!("no line {message:?} in {lines:#?}"))
    };
    assert_eq!(
        line("answered 503: a dependency is unavailable")["error"],
        "no database connection within 1s: a new connection failed: \
         error communicating with database: Connection refused (os error 111)"
    );
    let access = line("request");
    assert_eq!(
        (&access["path"], &access["status"]),
        (&json!("/tasks"), &json!(503))
    );
}
