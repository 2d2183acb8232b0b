//! The `healthcheck` subcommand: `<binary> healthcheck` asks the running server for `/health`
//! and exits 0 when it answers 200, 1 otherwise.
//!
//! Distroless and scratch images have no shell and no curl, so their `HEALTHCHECK` runs the
//! service's own binary in this mode. It reads the same `PORT` as the server and speaks just
//! enough HTTP/1.1 over a blocking socket that no runtime and no HTTP client are needed.

use std::{
    io::{self, Read, Write},
    net::{Ipv4Addr, SocketAddr, TcpStream},
    process,
    time::Duration,
};

use crate::config;

/// How long the probe waits to connect, and then for the answer.
pub const TIMEOUT: Duration = Duration::from_secs(2);

/// Runs the probe and exits when the first argument is `healthcheck`; otherwise returns.
pub fn run_if_requested(program: &str, default_port: u16) {
    let mut args = std::env::args().skip(1);
    match (args.next().as_deref(), args.next()) {
        (None, _) => return,
        (Some("healthcheck"), None) => {}
        _ => {
            eprintln!("usage: {program} [healthcheck]");
            process::exit(2);
        }
    }
    let outcome = config::port_or("PORT", default_port)
        .map_err(|error| error.to_string())
        .and_then(|port| check_health(port, TIMEOUT).map_err(|error| error.to_string()));
    match outcome {
        Ok(()) => process::exit(0),
        Err(message) => {
            eprintln!("{program} healthcheck: {message}");
            // Docker reserves exit status 2 in health checks: every failure is 1.
            process::exit(1);
        }
    }
}

/// Asks `http://127.0.0.1:{port}/health` and succeeds when the status is 200.
pub fn check_health(port: u16, timeout: Duration) -> io::Result<()> {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&address, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    stream.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")?;

    let mut head = [0; 64];
    let mut filled = 0;
    while filled < head.len() && !head[..filled].contains(&b'\n') {
        match stream.read(&mut head[filled..])? {
            0 => break,
            read => filled += read,
        }
    }
    let status_line = String::from_utf8_lossy(&head[..filled]);
    let status_line = status_line.lines().next().unwrap_or_default();
    match status_line.split_whitespace().nth(1) {
        Some("200") => Ok(()),
        _ => Err(io::Error::other(format!(
            "/health answered {status_line:?}, expected 200"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use std::{net::TcpListener, thread};

    use super::*;

    fn serve_once(response: &'static str) -> u16 {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut request = [0; 256];
            let _ = stream.read(&mut request);
            stream.write_all(response.as_bytes()).unwrap();
        });
        port
    }

    #[test]
    fn a_200_answer_is_healthy() {
        let port = serve_once("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
        check_health(port, TIMEOUT).unwrap();
    }

    #[test]
    fn any_other_answer_is_unhealthy() {
        let port = serve_once("HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n");
        let error = check_health(port, TIMEOUT).unwrap_err();
        assert!(error.to_string().contains("503"), "{error}");
    }

    #[test]
    fn nothing_listening_is_unhealthy() {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        assert!(check_health(port, TIMEOUT).is_err());
    }
}
