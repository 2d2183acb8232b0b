//! The `db-service` binary itself: configuration errors and stopping on SIGTERM.

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
        assert_eq!(output.status.code(), Some(2), "{output:?}");
        assert_eq!(
            String::from_utf8_lossy(&output.stderr).trim_end(),
            format!("db-service: configuration error: {line}")
        );
    }
    let output = binary::output(db_service().env("REDIS_URL", "http://localhost"));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .starts_with("db-service: configuration error: REDIS_URL: not a Redis URL")
    );
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
