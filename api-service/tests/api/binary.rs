//! The `api-service` binary itself: configuration errors, the `healthcheck` self-probe, JSON
//! logs, and stopping on SIGTERM and SIGINT.

use std::process::{Child, Command, Output, Stdio};

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
    binary::assert_config_error(output, "api-service", line);
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
    assert_config_error(
        &output,
        "DATABASE_URL: not a PostgreSQL URL: it must start with postgres:// or postgresql://",
    );
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
    assert_config_error(
        &output,
        r#"POSTGRES_PASSWORD_FILE="/nonexistent/password": cannot read the file: No such file or directory (os error 2)"#,
    );
}

#[test]
fn the_healthcheck_fails_with_status_1_when_nothing_listens() {
    binary::assert_unhealthy_when_nothing_listens(BINARY, "api-service");
}

#[test]
fn an_unknown_argument_prints_the_usage() {
    binary::assert_usage_on_unknown_argument(BINARY, "api-service");
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
    let (mut child, port, _database) = start_server().await;
    let answer = binary::http_get(port, "/", Some("api-bin-1"));
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    assert!(answer.contains("x-request-id: api-bin-1\r\n"), "{answer}");
    let status = signal_and_wait(&mut child, "TERM");
    assert!(status.success(), "{status}");

    let log = binary::json_log(&mut child);
    let messages: Vec<&str> = log
        .iter()
        .map(|line| line["message"].as_str().unwrap())
        .collect();
    assert!(messages.contains(&"listening"), "{messages:?}");
    assert!(
        messages.contains(&"SIGTERM received, shutting down"),
        "{messages:?}"
    );
    let request = binary::access_line(&log, "api-bin-1");
    assert_eq!(
        (&request["method"], &request["path"], &request["status"]),
        (&"GET".into(), &"/".into(), &200.into())
    );
}

#[tokio::test]
async fn the_binary_connects_with_postgres_variables_and_a_password_file() {
    let database = TestDatabase::create().await;
    let options = database.connect_options();
    let url = options.to_url_lossy();
    // The throwaway server trusts loopback; a server of your own checks the password.
    let password_file = std::env::temp_dir().join(format!("api-password-{}", std::process::id()));
    std::fs::write(
        &password_file,
        format!("{}\n", url.password().unwrap_or("unused-with-trust")),
    )
    .unwrap();
    let port = free_port();
    let mut child = api_service()
        .env("POSTGRES_HOST", options.get_host())
        .env("POSTGRES_PORT", options.get_port().to_string())
        .env("POSTGRES_USER", options.get_username())
        .env("POSTGRES_DB", options.get_database().unwrap())
        .env("POSTGRES_PASSWORD_FILE", &password_file)
        .env("PORT", port.to_string())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    binary::wait_until_healthy(BINARY, port).await;
    assert!(binary::http_get(port, "/", None).contains(r#"{"service":"api-service""#));
    let status = signal_and_wait(&mut child, "TERM");
    std::fs::remove_file(password_file).unwrap();
    assert!(status.success(), "{status}");
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

#[tokio::test]
async fn with_the_database_down_the_binary_listens_at_once_and_says_what_it_waits_for() {
    let port = free_port();
    let mut child = api_service()
        .env(
            "DATABASE_URL",
            format!("postgres://tasks@127.0.0.1:{}/tasks", free_port()),
        )
        .env("PORT", port.to_string())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    test_support::warm_up::assert_binary_waiting_for(BINARY, port, "postgres").await;
    let status = signal_and_wait(&mut child, "TERM");
    assert!(
        status.success(),
        "a start-up that waits stops cleanly: {status}"
    );
}
