//! api-service and db-service, served on loopback ports the tests can stop and restart.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use axum::Router;
use shared::http::server::ConnectionLimits;
use tokio::{io::AsyncReadExt, net::TcpListener, sync::oneshot, task::JoinHandle};

/// A backend serving a router on a fixed loopback port.
pub struct Backend {
    router: Router,
    address: SocketAddr,
    running: Option<(oneshot::Sender<()>, JoinHandle<()>)>,
}

impl Backend {
    /// Serves `router` on a free loopback port.
    pub async fn start(router: Router) -> Self {
        Self::start_at("127.0.0.1:0".parse().unwrap(), router).await
    }

    /// Serves `router` on `address`, port 0 for a free one.
    pub async fn start_at(address: SocketAddr, router: Router) -> Self {
        let listener = TcpListener::bind(address)
            .await
            .unwrap_or_else(|error| panic!("cannot listen on {address}: {error}"));
        let address = listener.local_addr().unwrap();
        let mut backend = Self {
            router,
            address,
            running: None,
        };
        backend.serve(listener);
        backend
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Stops serving; connections are refused until [`Backend::restart`].
    pub async fn stop(&mut self) {
        if let Some((stop, task)) = self.running.take() {
            stop.send(()).ok();
            task.await.unwrap();
        }
    }

    /// Serves again on the same port.
    pub async fn restart(&mut self) {
        let listener = TcpListener::bind(self.address).await.unwrap();
        self.serve(listener);
    }

    fn serve(&mut self, listener: TcpListener) {
        let (stop, stopped) = oneshot::channel::<()>();
        let router = self.router.clone();
        let task = tokio::spawn(async move {
            shared::http::server::serve(listener, router, ConnectionLimits::default(), async {
                stopped.await.ok();
            })
            .await
            .unwrap();
        });
        self.running = Some((stop, task));
    }
}

/// A port that accepts connections and never answers: a backend that hangs.
pub async fn black_hole() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    url
}

/// A replica at `address` that reads each request, then drops the connection without an
/// answer, as a node that dies mid-call does: the request may have been acted on. Counts the
/// requests it cut off.
pub async fn cutting_off(address: SocketAddr, cut_off: Arc<AtomicUsize>) {
    let listener = TcpListener::bind(address).await.unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let cut_off = cut_off.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buffer = [0; 1024];
                while !head.windows(4).any(|window| window == b"\r\n\r\n") {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(read) => head.extend_from_slice(&buffer[..read]),
                    }
                }
                cut_off.fetch_add(1, Ordering::Relaxed);
            });
        }
    });
}
