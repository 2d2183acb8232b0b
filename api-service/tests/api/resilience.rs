//! PostgreSQL going away and coming back, on a server of the test's own that it stops.

use std::time::{Duration, Instant};

use api_service::{config::DatabaseConfig, postgres};
use axum::{
    body::Body,
    http::{Method, Request, StatusCode},
};
use serde_json::json;
use shared::telemetry::{self, LogFormat, TelemetryConfig};
use test_support::{logs::LogCapture, postgres::PostgresServer};

use crate::helpers::TestApp;

fn pool_for(server: &PostgresServer) -> sqlx::PgPool {
    postgres::pool(&DatabaseConfig {
        max_connections: 5,
        acquire_timeout: Duration::from_secs(1),
        ..DatabaseConfig::new(server.connect_options())
    })
}

#[tokio::test]
async fn the_database_going_down_answers_503_and_the_service_recovers_when_it_returns() {
    let server = PostgresServer::start();
    let pool = pool_for(&server);
    postgres::prepare(&pool).await.unwrap();
    let app = TestApp::on_pool(pool);
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
async fn start_up_waits_for_a_database_that_is_down_then_migrates() {
    let server = PostgresServer::start();
    server.stop();
    let pool = pool_for(&server);
    let prepare = tokio::spawn({
        let pool = pool.clone();
        async move { postgres::prepare(&pool).await }
    });
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
    let app = TestApp::on_pool(pool);
    assert_eq!(app.get("/tasks").await.status, StatusCode::OK);
}

#[tokio::test]
async fn an_outage_is_logged_with_what_the_database_did_under_the_request_id() {
    let (capture, _capturing) = LogCapture::this_thread(|writer| {
        let json = TelemetryConfig::new("info", LogFormat::Json).unwrap();
        telemetry::subscriber(json, writer, false)
    });
    let server = PostgresServer::start();
    let pool = pool_for(&server);
    postgres::prepare(&pool).await.unwrap();
    let app = TestApp::on_pool(pool);
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
