//! One log line per request, inside a span that every other line of that request inherits, and
//! the request's id and metrics: the outermost layer of every service (see
//! [`crate::http::middleware`]).
//!
//! Every line written while the request is served carries its `request_id`, `method` and
//! `path`, so an error says which request it belongs to: in JSON logs through
//! [`current_request`], in text logs through a span `request`. When the answer's head is ready, one
//! line `request` adds `status` and `latency_ms`: a warning for a 5xx, debug for `/health`
//! (probes arrive every few seconds and would drown real traffic), info otherwise
//! ([`access_line`]). Before it, each [`Failure`] the response carries: the causes of a 5xx or
//! of a degraded page, so that they are logged once, where the request is answered. A client
//! that goes away before the answer leaves no answer: the line says status 499 (nginx's
//! "client closed request"), so a request a backend's caller gave up on is in the log too.
//!
//! One layer and one future do all of it, where tower-http's request-id, propagation and trace
//! layers and a metrics middleware took five: each layer moves the request and wraps the
//! future once more, a cost bench/instructions.py counts on every request.

use std::{
    convert::Infallible,
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll, ready},
    time::{Duration, Instant},
};

use axum::{extract::Request, http::Response};
use pin_project_lite::pin_project;
use tower::{Layer, Service};
use tracing::{Level, Span};

use crate::telemetry::{
    access_line::{self, AccessLine},
    current_request::{self, RequestFacts},
    failure::{Failure, Failures},
    metrics::http::InFlight,
    request_id,
};

/// Logs, identifies and counts each request: see the module's documentation.
#[derive(Debug, Clone, Copy, Default)]
pub struct AccessLogLayer;

impl<S> Layer<S> for AccessLogLayer {
    type Service = AccessLog<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AccessLog { inner }
    }
}

/// The service [`AccessLogLayer`] makes.
#[derive(Debug, Clone)]
pub struct AccessLog<S> {
    inner: S,
}

impl<S, B> Service<Request> for AccessLog<S>
where
    S: Service<Request, Response = Response<B>, Error = Infallible>,
{
    type Response = Response<B>;
    type Error = Infallible;
    type Future = Answering<S::Future>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(context)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let started = Instant::now();
        let id = request_id::keep_or_make(&mut request);
        let facts = Arc::new(RequestFacts {
            method: request.method().clone(),
            uri: request.uri().clone(),
            id,
            started,
        });
        let span = span(&facts);
        let in_flight = InFlight::start(&request, started);
        let answer = {
            let (_entered, _serving) = (span.enter(), current_request::serving(&facts));
            self.inner.call(request)
        };
        Answering {
            answer,
            span,
            facts,
            in_flight,
            answered: false,
        }
    }
}

/// Probes at debug, anything else at info.
fn level(facts: &RequestFacts) -> Level {
    if facts.uri.path() == "/health" {
        Level::DEBUG
    } else {
        Level::INFO
    }
}

/// The request's span, for text logs: JSON logs take the request's fields from
/// [`current_request`] instead, and tracing makes no span (nor formats a field) when its
/// level is off.
fn span(facts: &RequestFacts) -> Span {
    if access_line::written_directly() {
        return Span::none();
    }
    let (request_id, method, path) = (facts.id(), facts.method.as_str(), facts.uri.path());
    if level(facts) == Level::DEBUG {
        tracing::debug_span!("request", request_id, method, path)
    } else {
        tracing::info_span!("request", request_id, method, path)
    }
}

fn access_line(facts: &RequestFacts, status: u16, latency: Duration) -> AccessLine<'_> {
    let level = if status >= 500 || status == CLIENT_LEFT {
        Level::WARN
    } else {
        level(facts)
    };
    AccessLine {
        level,
        request_id: facts.id(),
        method: facts.method.as_str(),
        path: facts.uri.path(),
        status,
        latency,
    }
}

/// Status of a request whose client went away first, as nginx logs it.
const CLIENT_LEFT: u16 = 499;

pin_project! {
    /// The inner service's answer, polled as the thread's current request (and inside the
    /// request's span, in text logs); logged, counted and given the request's id when it is
    /// ready, or logged as 499 when dropped before.
    #[derive(Debug)]
    pub struct Answering<F> {
        #[pin]
        answer: F,
        span: Span,
        facts: Arc<RequestFacts>,
        in_flight: Option<InFlight>,
        answered: bool,
    }

    impl<F> PinnedDrop for Answering<F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            // Unwinding: a panic that escaped CatchPanic, already logged by the panic hook.
            if !*this.answered && !std::thread::panicking() {
                let (_entered, _serving) = (this.span.enter(), current_request::serving(this.facts));
                let latency = this.facts.started.elapsed();
                access_line::write(&access_line(this.facts, CLIENT_LEFT, latency));
                // The in-flight request, dropped with this future, counts itself as 499.
            }
        }
    }
}

impl<F, B> Future for Answering<F>
where
    F: Future<Output = Result<Response<B>, Infallible>>,
{
    type Output = Result<Response<B>, Infallible>;

    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let (_entered, _serving) = (this.span.enter(), current_request::serving(this.facts));
        let Ok(mut response) = ready!(this.answer.poll(context));
        *this.answered = true;
        let latency = this.facts.started.elapsed();
        Failures::of(&response).iter().for_each(Failure::log);
        access_line::write(&access_line(
            this.facts,
            response.status().as_u16(),
            latency,
        ));
        if let Some(in_flight) = this.in_flight.take() {
            in_flight.answered(&response, latency);
        }
        response
            .headers_mut()
            .entry(request_id::HEADER)
            .or_insert_with(|| this.facts.id.clone());
        Poll::Ready(Ok(response))
    }
}

/// Milliseconds rounded to 10 µs: more digits are noise, and floats print them all.
pub fn milliseconds(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 100_000.0).round() / 100.0
}
