//! Running a service's real binary: its configuration errors, its self-probe, one request over
//! a plain socket, its JSON log, and stopping it with a signal.

use std::{
    io::{Read, Write},
    net::TcpStream,
    process::{Child, Command, ExitStatus, Output, Stdio},
    time::{Duration, Instant},
};

use serde_json::Value;

/// The binary at `path` with an empty environment: only what the test sets reaches it.
pub fn command(path: &str) -> Command {
    let mut command = Command::new(path);
    command.env_clear().stdin(Stdio::null());
    command
}

/// Runs the binary to its end and returns what it printed. One that is still running after
/// 10 s, a server that accepted a setting the test expected it to refuse, is killed and the
/// test fails instead of hanging.
pub fn output(command: &mut Command) -> Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let deadline = Instant::now() + Duration::from_secs(10);
    while child
        .try_wait()
        .expect("the child can be waited for")
        .is_none()
    {
        if Instant::now() > deadline {
            child.kill().ok();
            panic!("still running after 10 s: {command:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().expect("the output is read")
}

/// Asserts how a service refuses a bad setting: exit status 2 and exactly one line,
/// `<program>: configuration error: <line>`.
pub fn assert_config_error(output: &Output, program: &str, line: &str) {
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        format!("{program}: configuration error: {line}\n")
    );
}

/// Asserts how the `healthcheck` mode fails when nothing listens on `port`: status 1 and why.
pub fn assert_unhealthy_when_nothing_listens(path: &str, program: &str) {
    let port = crate::free_port();
    let probe = output(
        command(path)
            .arg("healthcheck")
            .env("PORT", port.to_string()),
    );
    assert_eq!(probe.status.code(), Some(1), "{probe:?}");
    assert_eq!(
        String::from_utf8_lossy(&probe.stderr),
        format!("{program} healthcheck: Connection refused (os error 111)\n")
    );
}

/// Asserts the answer to an unknown argument: status 2 and the usage.
pub fn assert_usage_on_unknown_argument(path: &str, program: &str) {
    let usage = output(command(path).arg("serve"));
    assert_eq!(usage.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&usage.stderr),
        format!("usage: {program} [healthcheck]\n")
    );
}

/// Runs `<binary> healthcheck` against `port` until it succeeds; panics after 30 s.
pub async fn wait_until_healthy(path: &str, port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let probe = output(
            command(path)
                .arg("healthcheck")
                .env("PORT", port.to_string()),
        );
        if probe.status.success() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "never healthy: {}",
            String::from_utf8_lossy(&probe.stderr)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Sends `signal` (`TERM`, `INT`) and waits for the exit. The 5 s bound only catches a signal
/// that is not handled at all; docker/check-images.sh measures how fast the stop really is.
pub fn signal_and_wait(child: &mut Child, signal: &str) -> ExitStatus {
    // The shell's builtin kill: slim images have no /bin/kill (procps).
    let sent = Command::new("sh")
        .arg("-c")
        .arg(format!("kill -s {signal} {}", child.id()))
        .status()
        .expect("sh runs");
    assert!(sent.success(), "kill -{signal} failed");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(status) = child.try_wait().expect("the child can be waited for") {
            return status;
        }
        if Instant::now() > deadline {
            child.kill().ok();
            panic!("still running 5 s after SIG{signal}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// One `GET` over a plain socket, with an `x-request-id` when given: the binary's own server,
/// not a router in the test. Returns the whole answer, head and body.
pub fn http_get(port: u16, path: &str, request_id: Option<&str>) -> String {
    let id_header = request_id.map_or(String::new(), |id| format!("x-request-id: {id}\r\n"));
    http_request(port, &format!("GET {path}"), &id_header)
}

/// One request without a body (`POST /hits/x`) over a plain socket. Returns the whole answer.
pub fn http_call(port: u16, method_and_path: &str) -> String {
    http_request(port, method_and_path, "Content-Length: 0\r\n")
}

fn http_request(port: u16, method_and_path: &str, headers: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("the server accepts");
    write!(
        stream,
        "{method_and_path} HTTP/1.1\r\nHost: localhost\r\n{headers}Connection: close\r\n\r\n"
    )
    .expect("the request is sent");
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .expect("the answer is read");
    answer
}

/// The log a stopped binary wrote to its piped stdout, one JSON object per line. Panics on a
/// line that is not JSON or lacks any of `timestamp`, `level`, `target` and `message`.
pub fn json_log(child: &mut Child) -> Vec<Value> {
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .expect("stdout is piped")
        .read_to_string(&mut stdout)
        .expect("stdout is read");
    stdout
        .lines()
        .map(|line| {
            let parsed: Value = serde_json::from_str(line)
                .unwrap_or_else(|error| panic!("not JSON ({error}): {line}"));
            for key in ["timestamp", "level", "target", "message"] {
                assert!(parsed[key].is_string(), "no {key} in {line}");
            }
            parsed
        })
        .collect()
}

/// The access-log line of the request with `request_id`; asserts it has every field.
pub fn access_line<'a>(log: &'a [Value], request_id: &str) -> &'a Value {
    let line = log
        .iter()
        .find(|line| line["message"] == "request" && line["request_id"] == request_id)
        .unwrap_or_else(|| panic!("no access line for {request_id} in {log:#?}"));
    for key in ["method", "path"] {
        assert!(line[key].is_string(), "no {key} in {line}");
    }
    for key in ["status", "latency_ms"] {
        assert!(line[key].is_number(), "no {key} in {line}");
    }
    line
}
