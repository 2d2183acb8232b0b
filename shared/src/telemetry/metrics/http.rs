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

use std::{sync::LazyLock, time::Instant};

use axum::{
    extract::{MatchedPath, Request},
    http::Method,
    middleware::Next,
    response::Response,
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

/// Middleware that records each request. Layered on the router, so that the route it matched
/// is known.
pub async fn record(request: Request, next: Next) -> Response {
    if !super::enabled() {
        return next.run(request).await;
    }
    let mut in_flight = InFlight::start(
        method_label(request.method()),
        request.extensions().get::<MatchedPath>().cloned(),
    );
    let response = next.run(request).await;
    if Failures::of(&response)
        .iter()
        .any(|failure| matches!(failure, Failure::Degraded { .. }))
    {
        DEGRADED
            .with_label_values(&[in_flight.method, in_flight.route()])
            .inc();
    }
    in_flight.end(response.status().as_str());
    response
}

/// A request being answered: in the in-flight gauge until it ends, and then in the histogram,
/// also when its future is dropped because the client left.
struct InFlight {
    method: &'static str,
    route: Option<MatchedPath>,
    gauge: IntGauge,
    started: Instant,
    ended: bool,
}

impl InFlight {
    fn start(method: &'static str, route: Option<MatchedPath>) -> Self {
        let route_label = route.as_ref().map_or("unmatched", MatchedPath::as_str);
        let gauge = IN_FLIGHT.with_label_values(&[method, route_label]);
        gauge.inc();
        Self {
            method,
            route,
            gauge,
            started: Instant::now(),
            ended: false,
        }
    }

    fn route(&self) -> &str {
        self.route.as_ref().map_or("unmatched", MatchedPath::as_str)
    }

    fn end(&mut self, status: &str) {
        self.ended = true;
        DURATION
            .with_label_values(&[self.method, self.route(), status])
            .observe(self.started.elapsed().as_secs_f64());
        self.gauge.dec();
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if !self.ended {
            self.end(CLIENT_LEFT);
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
