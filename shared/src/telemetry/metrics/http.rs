//! The requests a service serves: how many, how long, how many at once, by route template.
//!
//! - `http_server_request_duration_seconds{method, route, status}`: a histogram; its `_count`
//!   is the number of requests.
//! - `http_server_requests_in_flight{method, route}`: being served now.
//! - `http_server_degraded_responses_total{method, route}`: answered without what a backend
//!   would have given (web-service's degraded pages, still 200).
//!
//! `route` is the template the router matched (`/hits/{key}`), never the path: a label per key
//! would make a series per key, and Prometheus's memory grows with series. A path no route
//! matches is `unmatched`; a method outside HTTP's own is `other`, for the same reason. A
//! request whose client left before the answer is counted with status 499, as it is logged.

use std::{
    sync::LazyLock,
    time::{Duration, Instant},
};

use axum::{
    extract::{MatchedPath, Request},
    http::{Method, Response},
};
use prometheus::{HistogramVec, IntCounterVec, IntGauge, IntGaugeVec};

use crate::telemetry::failure::{Failure, Failures};

static DURATION: LazyLock<HistogramVec> = LazyLock::new(|| {
    super::seconds_histogram(
        "http_server_request_duration_seconds",
        "Time to answer a request, by method, route template and status",
        &["method", "route", "status"],
    )
});
static IN_FLIGHT: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    super::gauges(
        "http_server_requests_in_flight",
        "Requests being answered now, by method and route template",
        &["method", "route"],
    )
});
static DEGRADED: LazyLock<IntCounterVec> = LazyLock::new(|| {
    super::counter(
        "http_server_degraded_responses_total",
        "Responses served without what a backend would have given (degraded pages)",
        &["method", "route"],
    )
});

/// Status of a request whose client went away first, as nginx and the access log count it.
const CLIENT_LEFT: &str = "499";

/// A request being answered: in the in-flight gauge until it ends, and then in the histogram,
/// also when it is dropped unanswered because the client left. Started by the access log layer,
/// which runs after routing, so that the route is known.
#[derive(Debug)]
pub struct InFlight {
    method: &'static str,
    route: Option<MatchedPath>,
    gauge: IntGauge,
    started: Instant,
    ended: bool,
}

impl InFlight {
    /// `None` when metrics are off (no `METRICS_PORT`). `started`: when the request arrived.
    pub fn start(request: &Request, started: Instant) -> Option<Self> {
        if !super::enabled() {
            return None;
        }
        let method = method_label(request.method());
        let route = request.extensions().get::<MatchedPath>().cloned();
        let route_label = route.as_ref().map_or("unmatched", MatchedPath::as_str);
        let gauge = IN_FLIGHT.with_label_values(&[method, route_label]);
        gauge.inc();
        Some(Self {
            method,
            route,
            gauge,
            started,
            ended: false,
        })
    }

    /// Records the answer, `latency` after the request arrived: its status and time, and
    /// whether it was degraded.
    pub fn answered<B>(mut self, response: &Response<B>, latency: Duration) {
        if Failures::of(response)
            .iter()
            .any(|failure| matches!(failure, Failure::Degraded { .. }))
        {
            DEGRADED
                .with_label_values(&[self.method, self.route()])
                .inc();
        }
        self.end(response.status().as_str(), latency);
    }

    fn route(&self) -> &str {
        self.route.as_ref().map_or("unmatched", MatchedPath::as_str)
    }

    fn end(&mut self, status: &str, latency: Duration) {
        self.ended = true;
        DURATION
            .with_label_values(&[self.method, self.route(), status])
            .observe(latency.as_secs_f64());
        self.gauge.dec();
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if !self.ended {
            self.end(CLIENT_LEFT, self.started.elapsed());
        }
    }
}

/// The method as a label: HTTP's own methods by name, any other as `other`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}
