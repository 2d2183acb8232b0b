//! The `db-service` binary itself: configuration errors, the `healthcheck` self-probe, and
//! stopping on SIGTERM.

use std::process::{Command, Stdio};

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
