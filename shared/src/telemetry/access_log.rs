//! One log line per request, inside a span that every other line of that request inherits.
//!
//! The span `request` carries `request_id`, `method` and `path`, so an error logged while the
//! request is served says which request it belongs to. When the answer's head is ready, one
//! line `request` adds `status` and `latency_ms`: a warning for a 5xx, debug for `/health`
//! (probes arrive every few seconds and would drown real traffic), info otherwise.
//! Before it, each [`Failure`] the response carries: the causes of a 5xx or of a degraded
//! page, so that they are logged once, where the request is answered. tower-http's
//! `TraceLayer` calls the first two; its own default lines are turned off. A client that goes
//! away before the answer leaves no answer to log: [`AbandonWatch`] logs it.

use std::time::{Duration, Instant};

use axum::http::{Request, Response};
use tower_http::trace::{MakeSpan, OnResponse};
use tracing::{Level, Span};

use crate::telemetry::{
    failure::{Failure, Failures},
    request_id,
};

/// Makes the span of each request.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestSpan;

impl<B> MakeSpan<B> for RequestSpan {
    fn make_span(&mut self, request: &Request<B>) -> Span {
        let path = request.uri().path();
        let request_id = request_id::of(request);
        let method = request.method().as_str();
        if path == "/health" {
            tracing::debug_span!("request", request_id, method, path)
        } else {
            tracing::info_span!("request", request_id, method, path)
        }
    }
}

/// Writes the failures and the access-log line of each request.
#[derive(Debug, Clone, Copy, Default)]
pub struct ResponseLine;

impl<B> OnResponse<B> for ResponseLine {
    fn on_response(self, response: &Response<B>, latency: Duration, span: &Span) {
        Failures::of(response).iter().for_each(Failure::log);
        let status = response.status().as_u16();
        let latency_ms = milliseconds(latency);
        if response.status().is_server_error() {
            tracing::warn!(status, latency_ms, "request");
        } else if span
            .metadata()
            .is_some_and(|span| *span.level() == Level::INFO)
        {
            tracing::info!(status, latency_ms, "request");
        } else {
            tracing::debug!(status, latency_ms, "request");
        }
    }
}

/// Watches a request from inside its span until it is answered. When the client closes the
/// connection first, the server drops the request's future, so `TraceLayer` never sees an
/// answer; dropping the watch unanswered then logs the access line with status 499 (nginx's
/// "client closed request"): a request a backend's caller gave up on is in the log too.
#[derive(Debug)]
pub struct AbandonWatch {
    span: Span,
    started: Instant,
    answered: bool,
}

impl AbandonWatch {
    /// Starts watching the request whose span is the current one.
    pub fn start() -> Self {
        Self {
            span: Span::current(),
            started: Instant::now(),
            answered: false,
        }
    }

    pub fn answered(mut self) {
        self.answered = true;
    }
}

impl Drop for AbandonWatch {
    fn drop(&mut self) {
        // Unwinding from a panicking handler: the panic is answered (500) and logged outside.
        if !self.answered && !std::thread::panicking() {
            let _entered = self.span.enter();
            let latency_ms = milliseconds(self.started.elapsed());
            tracing::warn!(status = 499, latency_ms, "request");
        }
    }
}

/// Milliseconds rounded to 10 µs: more digits are noise, and floats print them all.
pub fn milliseconds(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 100_000.0).round() / 100.0
}
