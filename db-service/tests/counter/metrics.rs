//! `/metrics` on `METRICS_PORT`: requests counted exactly, by route template, and Redis's
//! outages in the Redis metric. Run against the binary: the recorder is the process's own.

use std::process::{Child, Stdio};

use test_support::{
    binary::{self, signal_and_wait},
    free_port,
    metrics::{scrape, series, value},
    redis::{RedisServer, TestRedis},
};

const BINARY: &str = env!("CARGO_BIN_EXE_db-service");
const REQUESTS: &str = "http_server_request_duration_seconds_count";
const COMMANDS: &str = "redis_command_duration_seconds_count";

/// The binary on `redis_url`, with its metrics on a port of their own; returns both ports.
async fn start(redis_url: &str, prefix: &str) -> (Child, u16, u16) {
    let (port, metrics_port) = (free_port(), free_port());
    let child = binary::command(BINARY)
        .env("REDIS_URL", redis_url)
        .env("REDIS_KEY_PREFIX", prefix)
        .env("PORT", port.to_string())
        .env("METRICS_PORT", metrics_port.to_string())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    binary::wait_until_healthy(BINARY, port).await;
    (child, port, metrics_port)
}

#[tokio::test]
async fn a_thousand_distinct_keys_are_a_thousand_requests_in_one_series_of_the_route_template() {
    let redis = TestRedis::create();
    let (mut child, port, metrics_port) = start(redis.url(), redis.prefix()).await;
    for n in 0..1000 {
        let answer = binary::http_call(port, &format!("POST /hits/key-{n}"));
        assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    }
    binary::http_call(port, "POST /hits/not%20a%20key");
    binary::http_get(port, "/no/such/route", None);

    let text = scrape(metrics_port);
    let hits = series(
        &text,
        REQUESTS,
        &[("method", "POST"), ("route", "/hits/{key}")],
    );
    assert_eq!(
        hits.iter().map(|(labels, _)| *labels).collect::<Vec<_>>(),
        [
            r#"method="POST",route="/hits/{key}",status="200""#,
            r#"method="POST",route="/hits/{key}",status="400""#
        ],
        "one series per status, none per key"
    );
    let count = |labels: &[(&str, &str)]| value(&text, REQUESTS, labels);
    let status = |code| [("route", "/hits/{key}"), ("status", code)];
    assert_eq!(count(&status("200")), Some(1000.0));
    assert_eq!(count(&status("400")), Some(1.0));
    assert_eq!(
        count(&[("route", "unmatched"), ("status", "404")]),
        Some(1.0)
    );
    assert_eq!(
        value(
            &text,
            COMMANDS,
            &[("command", "HINCRBY"), ("outcome", "ok")]
        ),
        Some(1000.0)
    );
    assert_eq!(
        value(&text, "build_info", &[("service", "db-service")]),
        Some(1.0),
        "{text}"
    );

    let own_port = binary::http_get(port, "/metrics", None);
    assert!(
        own_port.starts_with("HTTP/1.1 404"),
        "metrics are never on the service's own port: {own_port}"
    );
    assert!(signal_and_wait(&mut child, "TERM").success());
}

#[tokio::test]
async fn a_redis_outage_shows_in_the_redis_metric_as_unavailable_commands() {
    let server = RedisServer::start();
    let (mut child, port, metrics_port) = start(&server.url(), "outage:").await;
    assert!(binary::http_call(port, "POST /hits/x").starts_with("HTTP/1.1 200 OK"));
    server.stop();
    for _ in 0..3 {
        let answer = binary::http_call(port, "POST /hits/x");
        assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    }
    let text = scrape(metrics_port);
    let hincrby = |outcome| {
        value(
            &text,
            COMMANDS,
            &[("command", "HINCRBY"), ("outcome", outcome)],
        )
    };
    assert_eq!(hincrby("ok"), Some(1.0));
    assert_eq!(hincrby("unavailable"), Some(3.0));
    assert_eq!(
        value(
            &text,
            REQUESTS,
            &[("route", "/hits/{key}"), ("status", "503")]
        ),
        Some(3.0)
    );
    assert!(signal_and_wait(&mut child, "TERM").success());
}
