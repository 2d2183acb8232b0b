//! Calls spread over a backend's replicas. Behind a name that resolves to one address per
//! replica (Swarm's `endpoint_mode: dnsrr`, a Kubernetes headless Service), a connection pool
//! keyed by the name keeps every call on the replica it reached first, however many are added.
//! So each call goes to one of the name's addresses in turn, and the pool, keyed by address,
//! keeps connections to every replica. A name with one address (Compose, a Kubernetes Service's
//! virtual IP) is called as before.
//!
//! The name's answer lags behind the replicas: when a node dies, the orchestrator takes some
//! seconds to notice and still gives its replicas' addresses meanwhile (Swarm took 19 s here).
//! So an address that did not answer is left out of the turns until the name stops giving it,
//! or for [`LEFT_OUT`] at most; one that answered that it is still starting, for as long as its
//! `Retry-After` asks.

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

/// How long an address that did not answer is skipped while the name still gives it: long
/// enough for an orchestrator to notice a lost node, short enough that a replica which only
/// paused is called again soon. Once back in the turns, a replica still gone costs a connect
/// timeout and another try, not a page: its pooled connections have closed by then.
const LEFT_OUT: Duration = Duration::from_secs(15);

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
    /// Addresses left out of the turns, and until when.
    left_out: Vec<(SocketAddr, Instant)>,
}

impl Resolution {
    /// The addresses to take turns over: those left out are skipped, unless no other is left
    /// (trying one then is better than not calling at all).
    fn usable(&mut self) -> Arc<[SocketAddr]> {
        let now = Instant::now();
        self.left_out.retain(|(_, until)| *until > now);
        if self.left_out.is_empty() {
            return self.addresses.clone();
        }
        let usable: Arc<[SocketAddr]> = self
            .addresses
            .iter()
            .filter(|address| !self.left_out.iter().any(|(out, _)| out == *address))
            .copied()
            .collect();
        if usable.is_empty() {
            self.addresses.clone()
        } else {
            usable
        }
    }
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
        let addresses = self.usable().await;
        if addresses.is_empty() {
            return None;
        }
        let turn = self.inner.next.fetch_add(1, Ordering::Relaxed);
        Some(addresses[turn % addresses.len()])
    }

    /// `address` did not answer a call: it is skipped for [`LEFT_OUT`] at most, and the name
    /// is resolved again before the next call, since its replica has usually stopped or its
    /// node died.
    pub async fn unreachable(&self, address: SocketAddr) {
        let mut resolved = self.inner.resolved.lock().await;
        Self::leave_out(&mut resolved, address, LEFT_OUT);
        resolved.at = None;
    }

    /// `address` answered that it is still starting and to come back after `retry_after`: it
    /// is skipped that long ([`LEFT_OUT`] at most). Its name needs no new lookup: the replica
    /// is there, only not serving yet.
    pub async fn starting(&self, address: SocketAddr, retry_after: Duration) {
        let mut resolved = self.inner.resolved.lock().await;
        Self::leave_out(&mut resolved, address, retry_after.min(LEFT_OUT));
    }

    fn leave_out(resolved: &mut Resolution, address: SocketAddr, time: Duration) {
        resolved.left_out.retain(|(out, _)| *out != address);
        resolved.left_out.push((address, Instant::now() + time));
    }

    /// The addresses to take turns over, resolved at most every [`REFRESH`]. One caller
    /// resolves while the others wait for its answer. A failed resolution keeps the addresses
    /// known before.
    async fn usable(&self) -> Arc<[SocketAddr]> {
        let mut resolved = self.inner.resolved.lock().await;
        if resolved.at.is_some_and(|at| at.elapsed() < REFRESH) {
            return resolved.usable();
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
                // An address the name no longer gives needs no skipping.
                resolved.left_out.retain(|(out, _)| addresses.contains(out));
                resolved.addresses = addresses.into();
            }
            Err(error) => tracing::debug!(
                authority = self.inner.authority,
                %error,
                "cannot resolve a backend's name, keeping its last addresses"
            ),
        }
        resolved.at = Some(Instant::now());
        resolved.usable()
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
        // An address that did not answer resolves again at once.
        *answer.lock().unwrap() = vec![address(4)];
        replicas.unreachable(address(2)).await;
        assert_eq!(replicas.next().await, Some(address(4)));
        assert_eq!(lookups.load(Ordering::Relaxed), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn an_address_that_did_not_answer_is_skipped_while_the_name_still_gives_it() {
        let answer = Arc::new(StdMutex::new(vec![address(1), address(2), address(3)]));
        let lookups = Arc::new(AtomicUsize::new(0));
        let replicas = Replicas::new("api", 8000, resolver(answer.clone(), lookups));
        replicas.next().await;
        replicas.unreachable(address(2)).await;
        for _ in 0..6 {
            assert_ne!(replicas.next().await, Some(address(2)));
        }
        // Still skipped after the name is resolved again: the name lags behind the replicas.
        tokio::time::advance(REFRESH).await;
        for _ in 0..6 {
            assert_ne!(replicas.next().await, Some(address(2)));
        }
        // Then tried again.
        tokio::time::advance(LEFT_OUT).await;
        let mut called = Vec::new();
        for _ in 0..3 {
            called.push(replicas.next().await.unwrap());
        }
        called.sort_unstable();
        assert_eq!(called, vec![address(1), address(2), address(3)]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_starting_replica_is_skipped_for_as_long_as_it_asks_and_no_longer() {
        let answer = Arc::new(StdMutex::new(vec![address(1), address(2)]));
        let lookups = Arc::new(AtomicUsize::new(0));
        let replicas = Replicas::new("api", 8000, resolver(answer, lookups.clone()));
        replicas.next().await;
        replicas.starting(address(1), Duration::from_secs(1)).await;
        for _ in 0..4 {
            assert_eq!(replicas.next().await, Some(address(2)));
        }
        assert_eq!(
            lookups.load(Ordering::Relaxed),
            1,
            "its name was not looked up again"
        );
        tokio::time::advance(Duration::from_secs(1)).await;
        let called = [replicas.next().await, replicas.next().await];
        assert!(called.contains(&Some(address(1))), "{called:?}");

        // A Retry-After of an hour is not taken at its word: a replica is tried again.
        replicas.starting(address(1), Duration::from_hours(1)).await;
        tokio::time::advance(LEFT_OUT).await;
        let called = [replicas.next().await, replicas.next().await];
        assert!(called.contains(&Some(address(1))), "{called:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn when_no_address_answered_each_is_tried_rather_than_none() {
        let answer = Arc::new(StdMutex::new(vec![address(1), address(2)]));
        let replicas = Replicas::new("api", 8000, resolver(answer, Arc::default()));
        replicas.unreachable(address(1)).await;
        replicas.unreachable(address(2)).await;
        assert!(replicas.next().await.is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn an_address_the_name_dropped_and_gave_again_is_called_at_once() {
        let answer = Arc::new(StdMutex::new(vec![address(1), address(2)]));
        let replicas = Replicas::new("api", 8000, resolver(answer.clone(), Arc::default()));
        replicas.unreachable(address(2)).await;
        *answer.lock().unwrap() = vec![address(1)];
        replicas.next().await;
        // A new replica at the same address (Swarm reuses them).
        *answer.lock().unwrap() = vec![address(1), address(2)];
        tokio::time::advance(REFRESH).await;
        let called = [replicas.next().await, replicas.next().await];
        assert!(called.contains(&Some(address(2))), "{called:?}");
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
        replicas.unreachable(address(1)).await;
        assert_eq!(replicas.next().await, Some(address(1)));
    }

    #[tokio::test]
    async fn a_name_that_never_resolved_gives_no_address() {
        let resolve: Resolve =
            Arc::new(|_| Box::pin(async { Err(io::Error::other("no such host")) }));
        assert_eq!(Replicas::new("nowhere", 8000, resolve).next().await, None);
    }
}
