//! The `web-service` binary itself: configuration errors, the `healthcheck` self-probe, a
//! degraded page with the request id in its JSON log, and stopping on SIGTERM and SIGINT.

use std::process::{Child, Command, Stdio};

use test_support::{
    binary::{self, signal_and_wait},
    free_port,
};

const BINARY: &str = env!("CARGO_BIN_EXE_web-service");

fn web_service() -> Command {
    binary::command(BINARY)
}

#[test]
fn configuration_errors_exit_with_status_2_naming_the_variable() {
    for (variable, value, line) in [
        (
            "API_URL",
            "ftp://api",
            r#"API_URL="ftp://api": expected an http:// URL such as http://api-service:8000"#,
        ),
        (
            "COUNTER_URL",
            "http://",
            r#"COUNTER_URL="http://": expected an http:// URL such as http://api-service:8000"#,
        ),
        (
            "BACKEND_TIMEOUT",
            "2",
            r#"BACKEND_TIMEOUT="2": expected a duration with a unit, such as 500ms or 10s"#,
        ),
        (
            "STATIC_MAX_AGE_SECONDS",
            "-1",
            r#"STATIC_MAX_AGE_SECONDS="-1": expected a number of seconds"#,
        ),
        (
            "BODY_LIMIT_BYTES",
            "lots",
            r#"BODY_LIMIT_BYTES="lots": expected a size in bytes"#,
        ),
        (
            "RUST_LOG",
            "info,sqlx=loud",
            r#"RUST_LOG="info,sqlx=loud": error parsing level filter: expected one of "off", "error", "warn", "info", "debug", "trace", or a number 0-5"#,
        ),
    ] {
        let output = binary::output(web_service().env(variable, value));
        binary::assert_config_error(&output, "web-service", line);
    }
}

#[test]
fn the_healthcheck_fails_with_status_1_when_nothing_listens() {
    binary::assert_unhealthy_when_nothing_listens(BINARY, "web-service");
}

#[test]
fn an_unknown_argument_prints_the_usage() {
    binary::assert_usage_on_unknown_argument(BINARY, "web-service");
}

/// The binary with both backends at a port where nothing listens, and JSON logs.
async fn start_without_backends() -> (Child, u16) {
    let nowhere = format!("http://127.0.0.1:{}", free_port());
    let port = free_port();
    let child = web_service()
        .env("API_URL", &nowhere)
        .env("COUNTER_URL", &nowhere)
        .env("PORT", port.to_string())
        .env("LOG_FORMAT", "json")
        .env("STATIC_DIR", concat!(env!("CARGO_MANIFEST_DIR"), "/static"))
        .stdout(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    binary::wait_until_healthy(BINARY, port).await;
    (child, port)
}

#[tokio::test]
async fn without_backends_it_serves_a_degraded_page_logs_why_and_stops_cleanly_on_sigterm() {
    let (mut child, port) = start_without_backends().await;
    let page = binary::http_get(port, "/", Some("web-bin-1"));
    assert!(page.starts_with("HTTP/1.1 200 OK"), "{page}");
    assert!(page.contains("x-request-id: web-bin-1\r\n"), "{page}");
    assert!(page.contains("Tasks are unavailable right now: api-service is not answering."));
    let status = signal_and_wait(&mut child, "TERM");
    assert!(status.success(), "{status}");

    let log = binary::json_log(&mut child);
    let request = binary::access_line(&log, "web-bin-1");
    assert_eq!(
        (&request["method"], &request["path"], &request["status"]),
        (&"GET".into(), &"/".into(), &200.into())
    );
    let mut failed: Vec<&str> = log
        .iter()
        .filter(|line| {
            line["request_id"] == "web-bin-1"
                && line["message"] == "backend call failed, the page degrades"
        })
        .map(|line| line["backend"].as_str().unwrap())
        .collect();
    failed.sort_unstable();
    assert_eq!(failed, ["api-service", "db-service"]);
    assert!(
        log.iter()
            .any(|line| line["message"] == "SIGTERM received, shutting down")
    );
}

#[tokio::test]
async fn the_binary_also_stops_on_sigint() {
    let (mut child, port) = start_without_backends().await;
    let status = signal_and_wait(&mut child, "INT");
    assert!(status.success(), "{status}");
    let probe = binary::output(
        web_service()
            .arg("healthcheck")
            .env("PORT", port.to_string()),
    );
    assert_eq!(probe.status.code(), Some(1), "still answering after SIGINT");
}
