//! Running a service's real binary: its self-probe, and stopping it with a signal.

use std::{
    process::{Child, Command, ExitStatus, Output, Stdio},
    time::{Duration, Instant},
};

/// The binary at `path` with an empty environment: only what the test sets reaches it.
pub fn command(path: &str) -> Command {
    let mut command = Command::new(path);
    command.env_clear().stdin(Stdio::null());
    command
}

pub fn output(command: &mut Command) -> Output {
    command.output().expect("the binary runs")
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
