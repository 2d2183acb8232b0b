//! The `db-service` binary itself: configuration errors, the `healthcheck` self-probe, its log
//! on stdout, and stopping on SIGTERM.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use test_support::{
    binary::{self, signal_and_wait},
    free_port,
    redis::TestRedis,
};

const BINARY: &str = env!("CARGO_BIN_EXE_db-service");

fn db_service() -> Command {
    binary::command(BINARY)
}

#[test]
fn configuration_errors_exit_with_status_2_naming_the_variable() {
    for (env, line) in [
        (vec![], "REDIS_URL: not set, e.g. redis://127.0.0.1:6379"),
        (
            vec![("REDIS_URL", "redis://localhost"), ("REDIS_TIMEOUT", "1")],
            r#"REDIS_TIMEOUT="1": expected a duration with a unit, such as 500ms or 10s"#,
        ),
        (
            vec![("REDIS_URL", "redis://localhost"), ("PORT", "-1")],
            r#"PORT="-1": expected a port number (1-65535)"#,
        ),
    ] {
        let output = binary::output(db_service().envs(env));
        binary::assert_config_error(&output, "db-service", line);
    }
    let output = binary::output(db_service().env("REDIS_URL", "http://localhost"));
    binary::assert_config_error(
        &output,
        "db-service",
        "REDIS_URL: not a Redis URL: Redis URL did not parse - InvalidClientConfig",
    );
}

#[test]
fn the_healthcheck_fails_with_status_1_when_nothing_listens() {
    binary::assert_unhealthy_when_nothing_listens(BINARY, "db-service");
}

#[test]
fn an_unknown_argument_prints_the_usage() {
    binary::assert_usage_on_unknown_argument(BINARY, "db-service");
}

#[tokio::test]
async fn the_binary_reads_its_redis_url_from_a_file_and_stops_cleanly_on_sigterm() {
    let redis = TestRedis::create();
    let url_file = std::env::temp_dir().join(format!("redis-url-{}", std::process::id()));
    std::fs::write(&url_file, format!("{}\n", redis.url())).unwrap();
    let port = free_port();
    let mut child = db_service()
        .env("REDIS_URL_FILE", &url_file)
        .env("REDIS_KEY_PREFIX", redis.prefix())
        .env("PORT", port.to_string())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    binary::wait_until_healthy(BINARY, port).await;
    let status = signal_and_wait(&mut child, "TERM");
    std::fs::remove_file(url_file).unwrap();
    assert!(status.success(), "{status}");
}

#[tokio::test]
async fn the_access_line_of_a_request_reaches_stdout_while_the_service_runs() {
    let redis = TestRedis::create();
    let port = free_port();
    let mut child = db_service()
        .env("REDIS_URL", redis.url())
        .env("REDIS_KEY_PREFIX", redis.prefix())
        .env("PORT", port.to_string())
        .env("LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    binary::wait_until_healthy(BINARY, port).await;
    let answer = binary::http_get(port, "/hits", Some("db-live-1"));
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");

    // Lines are written in batches: this one within a batch's delay, not only at exit.
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(5);
    let access_line = loop {
        let line = received
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("the access line is written while the service runs");
        if line.contains("db-live-1") {
            break line;
        }
    };
    assert!(access_line.contains(r#""status":200"#), "{access_line}");
    let status = signal_and_wait(&mut child, "TERM");
    assert!(status.success(), "{status}");
}

#[tokio::test]
async fn with_redis_down_the_binary_listens_at_once_and_says_what_it_waits_for() {
    let port = free_port();
    let mut child = db_service()
        .env("REDIS_URL", format!("redis://127.0.0.1:{}", free_port()))
        .env("PORT", port.to_string())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    test_support::warm_up::assert_binary_waiting_for(BINARY, port, "redis").await;
    let status = signal_and_wait(&mut child, "TERM");
    assert!(
        status.success(),
        "a start-up that waits stops cleanly: {status}"
    );
}
