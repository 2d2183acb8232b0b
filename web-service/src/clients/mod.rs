//! HTTP clients for the backends, sharing one `reqwest::Client` (one connection pool) and one
//! way of turning what went wrong into something a page can show.

pub mod api;
pub mod counter;

use std::time::{Duration, Instant};

use reqwest::{Response, StatusCode};
use serde::Serialize;
use shared::api::{ErrorBody, Readiness};

/// The one HTTP client of the service. Every call gives up after `timeout`, connecting
/// included, so a backend that hangs costs a page at most that long.
pub fn http_client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .user_agent(concat!("web-service/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("a client without TLS or proxies always builds")
}

/// Why a backend call did not give what the page asked for.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// Not reachable, too slow, or answering 5xx: the page degrades.
    #[error("{backend} is unavailable: {detail}")]
    Unavailable {
        backend: &'static str,
        detail: String,
    },
    /// A 4xx with the backend's message for a human: the page shows it.
    #[error("{message}")]
    Rejected { status: StatusCode, message: String },
}

impl BackendError {
    fn unavailable(backend: &'static str, detail: impl Into<String>) -> Self {
        let error = Self::Unavailable {
            backend,
            detail: detail.into(),
        };
        tracing::warn!(%error, "backend call failed");
        error
    }
}

/// Passes a 2xx response through; turns anything else into a [`BackendError`].
async fn checked(
    backend: &'static str,
    response: Result<Response, reqwest::Error>,
) -> Result<Response, BackendError> {
    let response =
        response.map_err(|error| BackendError::unavailable(backend, describe(&error)))?;
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    if status.is_client_error() {
        let message = match response.json::<ErrorBody>().await {
            Ok(body) => body.error,
            Err(_) => format!("{backend} refused the request ({status})"),
        };
        return Err(BackendError::Rejected { status, message });
    }
    Err(BackendError::unavailable(
        backend,
        format!("answered {status}"),
    ))
}

/// Decodes a 2xx body; a body of the wrong shape means the backend is not the expected one.
async fn json<T: serde::de::DeserializeOwned>(
    backend: &'static str,
    response: Response,
) -> Result<T, BackendError> {
    response
        .json()
        .await
        .map_err(|error| BackendError::unavailable(backend, format!("unexpected answer: {error}")))
}

/// reqwest's Display of an error is terse ("error sending request"); say what kind it was.
fn describe(error: &reqwest::Error) -> &'static str {
    if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection refused or unreachable"
    } else {
        "request failed"
    }
}

/// A backend's readiness as `/status` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BackendStatus {
    pub name: &'static str,
    pub url: String,
    pub ready: bool,
    /// "ready", or what is wrong: the backend's own readiness error, or why it did not answer.
    pub detail: String,
    /// How long `GET /ready` took, answer or not.
    pub round_trip_ms: f64,
}

/// Asks `{base_url}/ready` and times the round trip.
pub async fn readiness(
    http: &reqwest::Client,
    name: &'static str,
    base_url: &str,
) -> BackendStatus {
    let started = Instant::now();
    let answer = http.get(format!("{base_url}/ready")).send().await;
    let (ready, detail) = match answer {
        Err(error) => (false, describe(&error).to_owned()),
        Ok(response) => match response.json::<Readiness>().await {
            Ok(readiness) if readiness.ready => (true, "ready".to_owned()),
            Ok(readiness) => (
                false,
                readiness.error.unwrap_or_else(|| "not ready".to_owned()),
            ),
            Err(_) => (false, "unexpected answer to /ready".to_owned()),
        },
    };
    BackendStatus {
        name,
        url: base_url.to_owned(),
        ready,
        detail,
        round_trip_ms: (started.elapsed().as_secs_f64() * 100_000.0).round() / 100.0,
    }
}
