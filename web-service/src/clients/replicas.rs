//! Calls spread over a backend's replicas. Behind a name that resolves to one address per
//! replica (Swarm's `endpoint_mode: dnsrr`, a Kubernetes headless Service), a connection pool
//! keyed by the name keeps every call on the replica it reached first, however many are added.
//! So each call goes to one of the name's addresses in turn, and the pool, keyed by address,
//! keeps connections to every replica. A name with one address (Compose, a Kubernetes Service's
//! virtual IP) is called as before.

use std::{
    fmt,
    future::Future,
    io,
    net::SocketAddr,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use tokio::{sync::Mutex, time::Instant};

/// How long one resolution is used: a new replica gets calls within this time, and a replica
/// that is gone stops being tried (one refused connection also resolves again at once).
const REFRESH: Duration = Duration::from_secs(2);

/// How long a resolution may take. Every call waits for a refresh, and a name the network's
/// DNS does not know (a service scaled to zero) can be forwarded to a resolver that never
/// answers offline; the page must not wait for that.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(1);

/// What a name resolves to, as a function, so that tests can give several replicas on
/// loopback addresses without a DNS server.
pub type Resolve = Arc<
    dyn Fn(String) -> Pin<Box<dyn Future<Output = io::Result<Vec<SocketAddr>>> + Send>>
        + Send
        + Sync,
>;

/// The system's resolver, as the services use it.
pub fn system_resolver() -> Resolve {
    Arc::new(|authority: String| {
        Box::pin(async move { Ok(tokio::net::lookup_host(authority).await?.collect()) })
    })
}

/// The replicas of one backend, `host:port`. Cloning shares them.
#[derive(Clone)]
pub struct Replicas {
    inner: Arc<Inner>,
}

struct Inner {
    authority: String,
    resolve: Resolve,
    resolved: Mutex<Resolution>,
    next: AtomicUsize,
}

#[derive(Default)]
struct Resolution {
    addresses: Arc<[SocketAddr]>,
    at: Option<Instant>,
}

impl fmt::Debug for Replicas {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Replicas")
            .field("authority", &self.inner.authority)
            .finish_non_exhaustive()
    }
}

impl Replicas {
    /// The replicas behind `host:port`, as `resolve` finds them.
    pub fn new(host: &str, port: u16, resolve: Resolve) -> Self {
        Self {
            inner: Arc::new(Inner {
                authority: format!("{host}:{port}"),
                resolve,
                resolved: Mutex::new(Resolution::default()),
                next: AtomicUsize::new(0),
            }),
        }
    }

    /// The address for the next call, the replicas taken in turn; `None` when the name
    /// resolves to nothing, and the call then goes to the name and fails saying why.
    pub async fn next(&self) -> Option<SocketAddr> {
        let addresses = self.addresses().await;
        if addresses.is_empty() {
            return None;
        }
        let turn = self.inner.next.fetch_add(1, Ordering::Relaxed);
        Some(addresses[turn % addresses.len()])
    }

    /// Resolves the name again before the next call: a replica refused a connection.
    pub async fn forget(&self) {
        self.inner.resolved.lock().await.at = None;
    }

    /// The name's addresses, resolved at most every [`REFRESH`]. One caller resolves while
    /// the others wait for its answer. A failed resolution keeps the addresses known before.
    async fn addresses(&self) -> Arc<[SocketAddr]> {
        let mut resolved = self.inner.resolved.lock().await;
        if resolved.at.is_some_and(|at| at.elapsed() < REFRESH) {
            return resolved.addresses.clone();
        }
        let resolution = (self.inner.resolve)(self.inner.authority.clone());
        match tokio::time::timeout(RESOLVE_TIMEOUT, resolution)
            .await
            .unwrap_or_else(|_| Err(io::Error::from(io::ErrorKind::TimedOut)))
        {
            Ok(mut addresses) => {
                // Sorted, so that a new answer in another order does not reset the turns.
                addresses.sort_unstable();
                addresses.dedup();
                resolved.addresses = addresses.into();
            }
            Err(error) => tracing::debug!(
                authority = self.inner.authority,
                %error,
                "cannot resolve a backend's name, keeping its last addresses"
            ),
        }
        resolved.at = Some(Instant::now());
        resolved.addresses.clone()
    }
}

#[cfg(test)]
mod tests {
    use std::{
        collections::BTreeMap,
        net::{IpAddr, Ipv4Addr},
        sync::Mutex as StdMutex,
    };

    use super::*;

    fn address(last: u8) -> SocketAddr {
        SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, last)), 8000)
    }

    /// A resolver that answers what `answer` holds at the time, counting the lookups.
    fn resolver(answer: Arc<StdMutex<Vec<SocketAddr>>>, lookups: Arc<AtomicUsize>) -> Resolve {
        Arc::new(move |_| {
            lookups.fetch_add(1, Ordering::Relaxed);
            let addresses = answer.lock().unwrap().clone();
            Box::pin(async move { Ok(addresses) })
        })
    }

    #[tokio::test(start_paused = true)]
    async fn calls_take_the_replicas_in_turn_and_follow_the_name_as_it_changes() {
        let answer = Arc::new(StdMutex::new(vec![address(3), address(1), address(2)]));
        let lookups = Arc::new(AtomicUsize::new(0));
        let replicas = Replicas::new("api", 8000, resolver(answer.clone(), lookups.clone()));
        let mut calls = BTreeMap::new();
        for _ in 0..30 {
            *calls.entry(replicas.next().await.unwrap()).or_insert(0) += 1;
        }
        assert_eq!(
            calls,
            BTreeMap::from([(address(1), 10), (address(2), 10), (address(3), 10)])
        );
        assert_eq!(lookups.load(Ordering::Relaxed), 1, "one lookup per refresh");

        // Scaled down to one replica: used once the resolution is refreshed.
        *answer.lock().unwrap() = vec![address(2)];
        tokio::time::advance(REFRESH).await;
        for _ in 0..3 {
            assert_eq!(replicas.next().await, Some(address(2)));
        }
        // A refused connection resolves again at once.
        *answer.lock().unwrap() = vec![address(4)];
        replicas.forget().await;
        assert_eq!(replicas.next().await, Some(address(4)));
        assert_eq!(lookups.load(Ordering::Relaxed), 3);
    }

    #[tokio::test]
    async fn a_name_that_does_not_resolve_keeps_the_addresses_known_before() {
        let answered = Arc::new(AtomicUsize::new(0));
        let resolve: Resolve = Arc::new(move |_| {
            let first = answered.fetch_add(1, Ordering::Relaxed) == 0;
            Box::pin(async move {
                if first {
                    Ok(vec![address(1)])
                } else {
                    Err(io::Error::other("no DNS"))
                }
            })
        });
        let replicas = Replicas::new("api", 8000, resolve);
        assert_eq!(replicas.next().await, Some(address(1)));
        replicas.forget().await;
        assert_eq!(replicas.next().await, Some(address(1)));
    }

    #[tokio::test]
    async fn a_name_that_never_resolved_gives_no_address() {
        let resolve: Resolve =
            Arc::new(|_| Box::pin(async { Err(io::Error::other("no such host")) }));
        assert_eq!(Replicas::new("nowhere", 8000, resolve).next().await, None);
    }
}
