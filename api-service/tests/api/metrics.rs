//! `/metrics` on `METRICS_PORT`: requests counted exactly by route template, every query timed
//! by name, and the pool's gauges. Run against the binary: the recorder is the process's own.

use std::process::Stdio;

use sqlx::ConnectOptions;

use test_support::{
    binary::{self, signal_and_wait},
    free_port,
    metrics::{scrape, series, value},
    postgres::TestDatabase,
};

const BINARY: &str = env!("CARGO_BIN_EXE_api-service");
const REQUESTS: &str = "http_server_request_duration_seconds_count";
const QUERIES: &str = "postgres_query_duration_seconds_count";

#[tokio::test]
async fn requests_and_queries_are_counted_exactly_and_the_pool_is_measured() {
    let database = TestDatabase::create().await;
    let (port, metrics_port) = (free_port(), free_port());
    let mut child = binary::command(BINARY)
        .env(
            "DATABASE_URL",
            database.connect_options().to_url_lossy().as_str(),
        )
        .env("DATABASE_MAX_CONNECTIONS", "4")
        .env("PORT", port.to_string())
        .env("METRICS_PORT", metrics_port.to_string())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    binary::wait_until_healthy(BINARY, port).await;
    for id in 1..=50 {
        let answer = binary::http_get(port, &format!("/tasks/{id}"), None);
        assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
    }
    for _ in 0..5 {
        assert!(binary::http_get(port, "/tasks", None).starts_with("HTTP/1.1 200 OK"));
    }

    let text = scrape(metrics_port);
    assert_eq!(
        series(&text, REQUESTS, &[("route", "/tasks/{id}")]).len(),
        1,
        "one series for fifty ids:\n{text}"
    );
    let requests = |route, status| {
        value(
            &text,
            REQUESTS,
            &[("method", "GET"), ("route", route), ("status", status)],
        )
    };
    assert_eq!(requests("/tasks/{id}", "404"), Some(50.0));
    assert_eq!(requests("/tasks", "200"), Some(5.0));
    let queries = |query| value(&text, QUERIES, &[("query", query), ("outcome", "ok")]);
    assert_eq!(queries("find"), Some(50.0));
    assert_eq!(queries("list"), Some(5.0));
    assert_eq!(
        value(&text, "postgres_pool_max_connections", &[]),
        Some(4.0)
    );
    assert_eq!(value(&text, "postgres_pool_waiting", &[]), Some(0.0));
    let open: f64 = series(&text, "postgres_pool_connections", &[])
        .iter()
        .map(|(_, connections)| connections)
        .sum();
    assert!((1.0..=4.0).contains(&open), "{text}");
    assert_eq!(
        value(
            &text,
            "http_server_requests_in_flight",
            &[("route", "/tasks")]
        ),
        Some(0.0)
    );
    assert!(signal_and_wait(&mut child, "TERM").success());
}
