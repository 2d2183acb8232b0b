//! Start-up that does not keep a service from listening. A service listens at once, then
//! reaches its database and prepares it (migrations) in the background; until that is done,
//! its own routes answer 503 naming what it waits for.
//!
//! The phase decides what the health routes answer, so that Kubernetes, Swarm and Compose all
//! do the right thing with them (`docs/lab-guide.md`, "Health checks that mean one thing"):
//!
//! | phase       | `/health` (liveness, `healthcheck` mode) | `/ready`, own routes |
//! | ----------- | ---------------------------------------- | -------------------- |
//! | `Reaching`  | 503: starting                            | 503                  |
//! | `Waiting`   | 200: waiting for the database            | 503                  |
//! | `Preparing` | 503: starting                            | 503                  |
//! | `Done`      | 200                                      | per dependency check |
//!
//! Waiting on a database that is down counts as alive: no restart brings the database back,
//! so Swarm (which replaces an unhealthy task) and Kubernetes (liveness) leave the service
//! alone. The service's own start-up work (the first attempt, the migrations) is not alive
//! yet, so a Swarm rolling update, which waits for the new task to be healthy, never sends
//! traffic to a replica that could serve but has not finished starting.

use std::{
    convert::Infallible,
    future::{Future, Ready},
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicU8, Ordering},
    },
    task::{Context, Poll},
};

use axum::{
    body::Body,
    extract::Request,
    http::{HeaderValue, Response, StatusCode, header},
    response::IntoResponse,
};
use pin_project_lite::pin_project;
use tower::{Layer, Service};

use crate::{api::NOT_ACTED_ON, error::ApiError, retry};

/// Where a service is in its start-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Phase {
    /// The first attempt to reach the dependency has not ended yet.
    Reaching,
    /// The dependency did not answer; the service retries, with nothing a restart would fix.
    Waiting,
    /// The dependency answers and is being prepared (migrations).
    Preparing,
    /// Start-up is over. An outage from now on is answered request by request.
    Done,
}

impl Phase {
    const ALL: [Self; 4] = [Self::Reaching, Self::Waiting, Self::Preparing, Self::Done];
}

/// A service's start-up, shared by the task that runs it and the routes that report it.
/// Cloning shares it.
#[derive(Debug, Clone)]
pub struct WarmUp {
    dependency: &'static str,
    phase: Arc<AtomicU8>,
}

impl WarmUp {
    /// A start-up that must reach `dependency` before the service serves.
    pub fn new(dependency: &'static str) -> Self {
        Self {
            dependency,
            phase: Arc::new(AtomicU8::new(Phase::Reaching as u8)),
        }
    }

    pub fn dependency(&self) -> &'static str {
        self.dependency
    }

    pub fn phase(&self) -> Phase {
        let value = self.phase.load(Ordering::Acquire);
        Phase::ALL[usize::from(value)]
    }

    pub fn is_done(&self) -> bool {
        self.phase() == Phase::Done
    }

    fn set(&self, phase: Phase) {
        self.phase.store(phase as u8, Ordering::Release);
    }

    /// Runs the whole start-up: `reach` until it succeeds (with backoff, logging each failure),
    /// then `prepare` on what it returned. `Done` only when `prepare` succeeded; its error is
    /// the caller's, since a failed migration is a bug no retry fixes.
    pub async fn run<T, E, R, RFut, P, PFut, PE>(&self, reach: R, prepare: P) -> Result<(), PE>
    where
        E: std::error::Error + 'static,
        R: FnMut() -> RFut,
        RFut: Future<Output = Result<T, E>>,
        P: FnOnce(T) -> PFut,
        PFut: Future<Output = Result<(), PE>>,
    {
        let reached =
            retry::with_backoff(self.dependency, reach, || self.set(Phase::Waiting)).await;
        self.set(Phase::Preparing);
        prepare(reached).await?;
        self.set(Phase::Done);
        tracing::info!(dependency = self.dependency, "started: serving");
        Ok(())
    }

    /// Why the service does not serve yet; `None` once it does.
    pub fn not_serving_because(&self) -> Option<String> {
        match self.phase() {
            Phase::Reaching | Phase::Waiting => Some(format!(
                "starting: waiting for {} to answer",
                self.dependency
            )),
            Phase::Preparing => Some(format!("starting: preparing {}", self.dependency)),
            Phase::Done => None,
        }
    }
}

/// The layer for a service's routes: 503, naming what it waits for, until start-up is done,
/// except on the paths that must answer meanwhile (health, the service's description).
/// `Retry-After` tells a client when to try again, and [`NOT_ACTED_ON`] that another replica
/// may be asked at once, even with a request that is not idempotent.
///
/// A plain layer in the shared middleware's stack rather than `axum::middleware::from_fn` on
/// the routes, which boxes each route once more and clones the box on every request, long
/// after start-up is over: once it is, the gate costs one atomic load.
#[derive(Debug, Clone)]
pub struct GateLayer {
    warm_up: WarmUp,
    open_while_starting: &'static [&'static str],
}

impl GateLayer {
    pub fn new(warm_up: WarmUp, open_while_starting: &'static [&'static str]) -> Self {
        Self {
            warm_up,
            open_while_starting,
        }
    }
}

impl<S> Layer<S> for GateLayer {
    type Service = Gate<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Gate {
            layer: self.clone(),
            inner,
        }
    }
}

/// The service [`GateLayer`] makes.
#[derive(Debug, Clone)]
pub struct Gate<S> {
    layer: GateLayer,
    inner: S,
}

impl<S, B> Service<Request> for Gate<S>
where
    S: Service<Request, Response = Response<B>, Error = Infallible>,
    B: From<Body>,
{
    type Response = Response<B>;
    type Error = Infallible;
    type Future = Gated<S::Future, B>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(context)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let refusal = self.layer.warm_up.not_serving_because().filter(|_| {
            !self
                .layer
                .open_while_starting
                .contains(&request.uri().path())
        });
        match refusal {
            None => Gated::Open {
                answer: self.inner.call(request),
            },
            Some(reason) => Gated::Closed {
                refusal: std::future::ready(Ok(not_serving(reason).map(B::from))),
            },
        }
    }
}

pin_project! {
    /// The route's answer once start-up is done, a 503 before.
    #[project = GatedProjection]
    #[derive(Debug)]
    pub enum Gated<F, B> {
        Open { #[pin] answer: F },
        Closed { refusal: Ready<Result<Response<B>, Infallible>> },
    }
}

impl<F, B> Future for Gated<F, B>
where
    F: Future<Output = Result<Response<B>, Infallible>>,
{
    type Output = Result<Response<B>, Infallible>;

    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            GatedProjection::Open { answer } => answer.poll(context),
            GatedProjection::Closed { refusal } => Pin::new(refusal).poll(context),
        }
    }
}

fn not_serving(reason: String) -> Response<Body> {
    let mut response = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, reason).into_response();
    let headers = response.headers_mut();
    headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    headers.insert(NOT_ACTED_ON, HeaderValue::from_static("starting"));
    response
}

#[cfg(test)]
mod tests {
    use std::{
        cell::Cell,
        io::{Error, ErrorKind},
    };

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_dependency_that_does_not_answer_is_waited_for_then_prepared() {
        let warm_up = WarmUp::new("postgres");
        assert_eq!(warm_up.phase(), Phase::Reaching);
        let failures = Cell::new(0);
        let observed = &warm_up;
        let run = warm_up.run(
            || async {
                if failures.get() < 2 {
                    failures.set(failures.get() + 1);
                    return Err(Error::new(ErrorKind::ConnectionRefused, "refused"));
                }
                Ok("connection")
            },
            |connection| async move {
                assert_eq!(connection, "connection");
                assert_eq!(observed.phase(), Phase::Preparing);
                Ok::<_, Error>(())
            },
        );
        let watched = async {
            tokio::task::yield_now().await;
            assert_eq!(warm_up.phase(), Phase::Waiting);
            assert_eq!(
                warm_up.not_serving_because().as_deref(),
                Some("starting: waiting for postgres to answer")
            );
        };
        let (outcome, ()) = tokio::join!(run, watched);
        outcome.unwrap();
        assert!(warm_up.is_done());
        assert_eq!(warm_up.not_serving_because(), None);
    }

    #[tokio::test]
    async fn a_failed_preparation_is_not_done() {
        let warm_up = WarmUp::new("postgres");
        let outcome = warm_up
            .run(
                || async { Ok::<_, Error>(()) },
                |()| async { Err(Error::other("migration 3 failed")) },
            )
            .await;
        assert_eq!(outcome.unwrap_err().to_string(), "migration 3 failed");
        assert_eq!(warm_up.phase(), Phase::Preparing);
        assert_eq!(
            warm_up.not_serving_because().as_deref(),
            Some("starting: preparing postgres")
        );
    }
}
