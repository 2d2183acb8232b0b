//! `REQUEST_TIMEOUT` as a tower layer: a request not answered in time is answered with a 503.
//! (One whose client left first is logged with status 499 by the access log layer, outside.)
//!
//! A plain `Service` and its future rather than `axum::middleware::from_fn`, which boxes the
//! rest of the stack and clones the box on every request: a few percent of db-service's
//! throughput on its hot path.

use std::{
    convert::Infallible,
    future::Future,
    pin::Pin,
    task::{Context, Poll, ready},
    time::Duration,
};

use axum::{
    extract::Request,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use pin_project_lite::pin_project;
use tokio::time::Timeout;
use tower::{Layer, Service};

use crate::error::ApiError;

/// Answers requests slower than `limit` with a 503.
#[derive(Debug, Clone, Copy)]
pub struct DeadlineLayer {
    limit: Duration,
}

impl DeadlineLayer {
    pub fn new(limit: Duration) -> Self {
        Self { limit }
    }
}

impl<S> Layer<S> for DeadlineLayer {
    type Service = Deadline<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Deadline {
            inner,
            limit: self.limit,
        }
    }
}

/// The service [`DeadlineLayer`] makes.
#[derive(Debug, Clone)]
pub struct Deadline<S> {
    inner: S,
    limit: Duration,
}

impl<S> Service<Request> for Deadline<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = InTime<S::Future>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(context)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        InTime {
            answer: tokio::time::timeout(self.limit, self.inner.call(request)),
            limit: self.limit,
        }
    }
}

pin_project! {
    /// The answer of the inner service, or a 503 once the deadline has passed.
    #[derive(Debug)]
    pub struct InTime<F> {
        #[pin]
        answer: Timeout<F>,
        limit: Duration,
    }
}

impl<F> Future for InTime<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let answer = ready!(this.answer.poll(context));
        Poll::Ready(Ok(match answer {
            Ok(Ok(response)) => response,
            Ok(Err(never)) => match never {},
            Err(_elapsed) => {
                let limit = *this.limit;
                tracing::warn!(timeout = ?limit, "answered 503: the request took longer than REQUEST_TIMEOUT");
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "the request timed out")
                    .into_response()
            }
        }))
    }
}
