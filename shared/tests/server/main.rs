//! `shared::http::server` on a real loopback socket, with clients that misbehave the way slow and
//! greedy clients do: stalled request heads, idle connections, oversized headers, floods.

// In tests a panic is the failure report, helpers included.
#![allow(clippy::unwrap_used)]

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use axum::{Router, routing::get};
use shared::http::server::{self, ConnectionLimits};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::oneshot,
    task::JoinHandle,
};

const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nhost: test\r\n\r\n";

/// A server answering `GET /` with "ok", stopped when dropped.
struct TestServer {
    address: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl TestServer {
    async fn start(limits: ConnectionLimits) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let app = Router::new().route("/", get(|| async { "ok" }));
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server::serve(listener, app, limits, async {
            stopped.await.ok();
        }));
        Self {
            address,
            stop: Some(stop),
            task,
        }
    }

    async fn connect(&self) -> TcpStream {
        TcpStream::connect(self.address).await.unwrap()
    }

    /// Stops the server and returns how long it took to return.
    async fn stop(mut self) -> Duration {
        let started = Instant::now();
        self.stop.take().unwrap().send(()).unwrap();
        (&mut self.task).await.unwrap().unwrap();
        started.elapsed()
    }
}

fn limits(header_read_timeout: Duration) -> ConnectionLimits {
    ConnectionLimits {
        header_read_timeout,
        ..ConnectionLimits::default()
    }
}

/// Reads until the server closes the connection or `within` passes; returns what was read and
/// whether the connection was closed.
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> (String, bool) {
    let mut received = Vec::new();
    let closed = tokio::time::timeout(within, async {
        let mut buffer = [0; 4096];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(read) => received.extend_from_slice(&buffer[..read]),
            }
        }
    })
    .await
    .is_ok();
    (String::from_utf8_lossy(&received).into_owned(), closed)
}

/// Reads one whole response to `REQUEST` (its body is "ok").
async fn read_response(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let mut buffer = [0; 4096];
    while !received.ends_with(b"ok") {
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buffer))
            .await
            .expect("an answer within 5s")
            .unwrap();
        assert!(read > 0, "closed before answering: {received:?}");
        received.extend_from_slice(&buffer[..read]);
    }
    String::from_utf8_lossy(&received).into_owned()
}

#[tokio::test]
async fn a_connection_that_stalls_in_its_request_head_is_closed_after_the_header_read_timeout() {
    let server = TestServer::start(limits(Duration::from_millis(500))).await;
    let mut stalled = server.connect().await;
    stalled.write_all(b"GET / HT").await.unwrap();
    let started = Instant::now();

    let (answer, closed) = read_until_closed(&mut stalled, Duration::from_secs(5)).await;

    assert!(closed, "a stalled connection stayed open for 5s");
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "closed after {:?}, before the timeout",
        started.elapsed()
    );
    assert_eq!(answer, "", "a stalled request head got an answer");
}

#[tokio::test]
async fn a_client_trickling_its_request_head_byte_by_byte_is_closed_all_the_same() {
    let server = TestServer::start(limits(Duration::from_millis(500))).await;
    let mut trickling = server.connect().await;
    let started = Instant::now();
    let mut closed = false;
    for byte in b"GET / HTTP/1.1\r\nhost: test\r\nx-slow: ".iter().cycle() {
        if trickling.write_all(&[*byte]).await.is_err() {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        if started.elapsed() > Duration::from_secs(5) {
            break;
        }
    }
    assert!(closed, "a client sending a byte every 50ms was kept for 5s");
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_same_timeout() {
    let server = TestServer::start(limits(Duration::from_millis(500))).await;
    let mut client = server.connect().await;
    client.write_all(REQUEST).await.unwrap();
    assert!(read_response(&mut client).await.starts_with("HTTP/1.1 200"));
    // Kept alive for a next request sent at once...
    client.write_all(REQUEST).await.unwrap();
    assert!(read_response(&mut client).await.starts_with("HTTP/1.1 200"));

    // ...and closed once idle.
    let (answer, closed) = read_until_closed(&mut client, Duration::from_secs(5)).await;
    assert!(closed, "an idle connection stayed open for 5s");
    assert_eq!(answer, "");
}

#[tokio::test]
async fn a_request_head_over_the_size_limit_is_answered_with_431() {
    let server = TestServer::start(ConnectionLimits::default()).await;
    let limit = ConnectionLimits::default().max_header_bytes;
    let head_with_header = |value_length: usize| {
        format!(
            "GET / HTTP/1.1\r\nhost: test\r\nx-big: {}\r\n\r\n",
            "a".repeat(value_length)
        )
    };

    let mut within = server.connect().await;
    within
        .write_all(head_with_header(limit - 100).as_bytes())
        .await
        .unwrap();
    assert!(read_response(&mut within).await.starts_with("HTTP/1.1 200"));

    let mut over = server.connect().await;
    // A client may see its send fail once the server has answered and closed.
    let _ = over
        .write_all(head_with_header(200 * 1024).as_bytes())
        .await;
    let (answer, closed) = read_until_closed(&mut over, Duration::from_secs(5)).await;
    assert!(
        answer.starts_with("HTTP/1.1 431 Request Header Fields Too Large"),
        "{answer:?}"
    );
    assert!(closed);
}

#[tokio::test]
async fn connections_beyond_the_limit_wait_until_one_closes() {
    let server = TestServer::start(ConnectionLimits {
        max_connections: 2,
        ..limits(Duration::from_secs(30))
    })
    .await;
    let mut stalled = vec![server.connect().await, server.connect().await];
    for stream in &mut stalled {
        stream.write_all(b"GET / HT").await.unwrap();
    }
    // The kernel completes the handshake; the server does not take the connection.
    let mut waiting = server.connect().await;
    waiting.write_all(REQUEST).await.unwrap();
    let mut buffer = [0; 64];
    let early = tokio::time::timeout(Duration::from_millis(500), waiting.read(&mut buffer)).await;
    assert!(
        early.is_err(),
        "a third connection was served beyond a limit of 2"
    );

    drop(stalled.pop());
    assert!(
        read_response(&mut waiting)
            .await
            .starts_with("HTTP/1.1 200")
    );
}

/// hyper's graceful shutdown waits for a request head it has begun to read: stalled clients
/// can hold a stop for as long as the header read timeout, and no longer.
#[tokio::test]
async fn stalled_connections_hold_a_stop_no_longer_than_the_header_read_timeout() {
    let server = TestServer::start(limits(Duration::from_secs(1))).await;
    let mut stalled = Vec::new();
    for _ in 0..10 {
        let mut stream = server.connect().await;
        stream.write_all(b"GET / HT").await.unwrap();
        stalled.push(stream);
    }
    let mut idle = server.connect().await;
    idle.write_all(REQUEST).await.unwrap();
    read_response(&mut idle).await;

    let took = server.stop().await;

    assert!(
        took < Duration::from_secs(2),
        "stopping took {took:?} with stalled connections and a 1s header read timeout"
    );
}
