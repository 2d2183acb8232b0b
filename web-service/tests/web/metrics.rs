//! `/metrics` on `METRICS_PORT`: web-service's calls counted per backend and outcome, and the
//! pages they degraded. Run against the binary, over a real api-service: the recorder is the
//! process's own.

use std::process::Stdio;

use test_support::{
    binary::{self, signal_and_wait},
    free_port,
    metrics::{scrape, value},
    postgres::TestDatabase,
};

use crate::{backends::Backend, helpers::api_app};

const BINARY: &str = env!("CARGO_BIN_EXE_web-service");
const CALLS: &str = "backend_call_duration_seconds_count";

// Multi-threaded: the in-process api-service serves while this thread waits on the binary.
#[tokio::test(flavor = "multi_thread")]
async fn each_call_is_counted_for_its_backend_and_each_page_it_degraded_too() {
    let database = TestDatabase::create().await;
    let api = Backend::start(api_app(&database).await).await;
    let counter_gone = format!("http://127.0.0.1:{}", free_port());
    let (port, metrics_port) = (free_port(), free_port());
    let mut child = binary::command(BINARY)
        .env("API_URL", api.url())
        .env("COUNTER_URL", &counter_gone)
        .env("PORT", port.to_string())
        .env("METRICS_PORT", metrics_port.to_string())
        .env("STATIC_DIR", concat!(env!("CARGO_MANIFEST_DIR"), "/static"))
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    binary::wait_until_healthy(BINARY, port).await;
    let pages = 7;
    for _ in 0..pages {
        let page = binary::http_get(port, "/", None);
        assert!(page.starts_with("HTTP/1.1 200 OK"), "{page}");
    }

    let text = scrape(metrics_port);
    let calls =
        |backend, outcome| value(&text, CALLS, &[("backend", backend), ("outcome", outcome)]);
    assert_eq!(calls("api-service", "ok"), Some(f64::from(pages)));
    assert_eq!(calls("api-service", "unavailable"), None);
    assert_eq!(calls("db-service", "unavailable"), Some(f64::from(pages)));
    assert_eq!(
        value(
            &text,
            "http_server_degraded_responses_total",
            &[("route", "/")]
        ),
        Some(f64::from(pages)),
        "every page lacked its view count"
    );
    assert_eq!(
        value(
            &text,
            "http_server_request_duration_seconds_count",
            &[("method", "GET"), ("route", "/"), ("status", "200")]
        ),
        Some(f64::from(pages))
    );
    let own_port = binary::http_get(port, "/metrics", None);
    assert!(
        own_port.starts_with("HTTP/1.1 404"),
        "metrics are never on the port the world reaches: {own_port}"
    );
    assert!(signal_and_wait(&mut child, "TERM").success());
}
