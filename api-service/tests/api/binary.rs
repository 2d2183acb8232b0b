//! The `api-service` binary itself: configuration errors, the `healthcheck` self-probe, JSON
//! logs, and stopping on SIGTERM and SIGINT.

use std::{
    io::Read,
    process::{Child, Command, Output, Stdio},
};

use sqlx::ConnectOptions;
use test_support::{
    binary::{self, signal_and_wait},
    free_port,
    postgres::TestDatabase,
};

const BINARY: &str = env!("CARGO_BIN_EXE_api-service");

fn api_service() -> Command {
    binary::command(BINARY)
}

fn run(command: &mut Command) -> Output {
    binary::output(command)
}

fn assert_config_error(output: &Output, line: &str) {
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr.trim_end(),
        format!("api-service: configuration error: {line}")
    );
}

#[test]
fn without_database_settings_it_exits_with_status_2_and_says_what_to_set() {
    let output = run(&mut api_service());
    assert_config_error(
        &output,
        "DATABASE_URL: not set: set DATABASE_URL (or DATABASE_URL_FILE), or POSTGRES_HOST with \
         POSTGRES_USER, POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE) and POSTGRES_DB",
    );
}

#[test]
fn an_invalid_value_exits_with_status_2_naming_the_variable() {
    let url = ("DATABASE_URL", "postgres://localhost/tasks");
    for (variable, value, line) in [
        (
            "PORT",
            "http",
            r#"PORT="http": expected a port number (1-65535)"#,
        ),
        ("PORT", "0", r#"PORT="0": expected a port number (1-65535)"#),
        (
            "PORT",
            "70000",
            r#"PORT="70000": expected a port number (1-65535)"#,
        ),
        (
            "REQUEST_TIMEOUT",
            "10",
            r#"REQUEST_TIMEOUT="10": expected a duration with a unit, such as 500ms or 10s"#,
        ),
        (
            "LOG_FORMAT",
            "xml",
            r#"LOG_FORMAT="xml": expected text or json"#,
        ),
        (
            "DATABASE_MAX_CONNECTIONS",
            "many",
            r#"DATABASE_MAX_CONNECTIONS="many": expected a number of connections"#,
        ),
    ] {
        let output = run(api_service().env(url.0, url.1).env(variable, value));
        assert_config_error(&output, line);
    }
    let output = run(api_service().env("DATABASE_URL", "mysql://localhost/tasks"));
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("DATABASE_URL: not a PostgreSQL URL"));
}

#[test]
fn secrets_come_from_a_variable_or_a_file_but_not_both() {
    let output = run(api_service()
        .env("DATABASE_URL", "postgres://a/b")
        .env("DATABASE_URL_FILE", "/run/secrets/url"));
    assert_config_error(
        &output,
        "DATABASE_URL: set DATABASE_URL or DATABASE_URL_FILE, not both",
    );

    let output = run(api_service()
        .env("POSTGRES_HOST", "db")
        .env("POSTGRES_PASSWORD_FILE", "/nonexistent/password"));
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with(r#"api-service: configuration error: POSTGRES_PASSWORD_FILE="/nonexistent/password": cannot read the file"#),
        "{stderr}"
    );
}

#[test]
fn the_healthcheck_fails_with_status_1_when_nothing_listens() {
    let port = free_port();
    let output = run(api_service()
        .arg("healthcheck")
        .env("PORT", port.to_string()));
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).starts_with("api-service healthcheck: "));
}

#[test]
fn an_unknown_argument_prints_the_usage() {
    let output = run(api_service().arg("serve"));
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr).trim_end(),
        "usage: api-service [healthcheck]"
    );
}

/// The binary on a fresh database and a free port, with JSON logs.
async fn start_server() -> (Child, u16, TestDatabase) {
    let database = TestDatabase::create().await;
    let port = free_port();
    let child = api_service()
        .env(
            "DATABASE_URL",
            database.connect_options().to_url_lossy().as_str(),
        )
        .env("PORT", port.to_string())
        .env("LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    binary::wait_until_healthy(BINARY, port).await;
    (child, port, database)
}

#[tokio::test]
async fn the_binary_serves_until_sigterm_and_exits_cleanly_with_json_logs() {
    let (mut child, _port, _database) = start_server().await;
    let status = signal_and_wait(&mut child, "TERM");
    assert!(status.success(), "{status}");

    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|error| panic!("not JSON ({error}): {line}"))
        })
        .collect();
    let messages: Vec<&str> = lines
        .iter()
        .filter_map(|line| line["message"].as_str())
        .collect();
    assert!(messages.contains(&"listening"), "{messages:?}");
    assert!(
        messages.contains(&"SIGTERM received, shutting down"),
        "{messages:?}"
    );
}

#[tokio::test]
async fn the_binary_also_stops_on_sigint() {
    let (mut child, port, _database) = start_server().await;
    let status = signal_and_wait(&mut child, "INT");
    assert!(status.success(), "{status}");
    let probe = run(api_service()
        .arg("healthcheck")
        .env("PORT", port.to_string()));
    assert_eq!(probe.status.code(), Some(1), "still answering after SIGINT");
}
