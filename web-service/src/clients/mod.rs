//! HTTP clients for the backends: one `reqwest::Client` (one connection pool) for both, calls
//! spread over each backend's replicas, calls that carry the `x-request-id` of the request
//! being served, and one way of turning what went wrong into something a page can show and a
//! log line that says why.

pub mod api;
pub mod counter;
mod metrics;
pub mod replicas;

use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use axum::http::{HeaderValue, header};
use reqwest::{Method, Request, RequestBuilder, Response, StatusCode, Url};
use serde::Serialize;
use shared::{
    api::{ErrorBody, NOT_ACTED_ON, Readiness},
    http::server::ConnectionLimits,
    telemetry::{access_log, failure::Failure, request_id},
};

use self::replicas::{Replicas, Resolve};

/// The one HTTP client of the service, and the most one backend call may take.
#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
    timeout: Duration,
}

/// The one HTTP client of the service. Every call gives up after `timeout`, connecting and
/// every try included, so a backend that hangs costs a page at most that long.
///
/// A replica whose node died answers nothing, not even a refusal, so silence is cut short: a
/// connection not made within a quarter of `timeout`, or a request the replica's machine has
/// not acknowledged within half of it (`TCP_USER_TIMEOUT`), fails in time for another try. A
/// backend that is only slow still gets the whole `timeout`: its machine acknowledges at once.
///
/// The backends close a connection left idle for their header read timeout. A pooled
/// connection is dropped a second before that: reused at the moment the backend closes it, a
/// call would fail.
pub fn http_client(timeout: Duration) -> Http {
    let backends_idle_timeout = ConnectionLimits::default().header_read_timeout;
    let builder = reqwest::Client::builder()
        .pool_idle_timeout(backends_idle_timeout.saturating_sub(Duration::from_secs(1)))
        .timeout(timeout)
        .connect_timeout(timeout / 4)
        .user_agent(concat!("web-service/", env!("CARGO_PKG_VERSION")));
    #[cfg(target_os = "linux")]
    let builder = builder.tcp_user_timeout(timeout / 2);
    Http {
        client: builder
            .build()
            .expect("a client without TLS or proxies always builds"),
        timeout,
    }
}

/// The most replicas one call is sent to. Tries the backend never acted on cost it nothing,
/// but a backend whose every replica is starting must not be asked round and round.
const MOST_TRIES: usize = 3;

/// How far one try of a call got.
enum Try {
    /// An answer other than 503: passed on, whatever it is.
    Served,
    /// The backend did nothing with it: safe to send to another replica.
    NotActedOn,
    /// The backend may have acted on it: safe to send again only if idempotent.
    PerhapsActedOn,
}

/// One backend: its name, where it answers, its replicas, and the shared client.
#[derive(Debug, Clone)]
pub struct Backend {
    name: &'static str,
    base_url: Arc<str>,
    /// `host:port` of the base URL, sent as `Host` when a call goes to a replica's address.
    host: HeaderValue,
    replicas: Replicas,
    http: Http,
}

impl Backend {
    /// `base_url` is an `http://host[:port]` URL, as the configuration checked; its host's
    /// addresses, found by `resolve`, are its replicas.
    pub fn new(name: &'static str, base_url: &str, http: Http, resolve: Resolve) -> Self {
        let url = Url::parse(base_url).expect("the configuration checked the URL");
        let host = url.host_str().expect("the configuration checked the host");
        let port = url.port_or_known_default().unwrap_or(80);
        let host_header = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        Self {
            name,
            base_url: base_url.into(),
            host: HeaderValue::try_from(host_header).expect("a URL's host is a valid header"),
            replicas: Replicas::new(
                host.trim_start_matches('[').trim_end_matches(']'),
                port,
                resolve,
            ),
            http,
        }
    }

    /// This backend as the request with `request_id` calls it.
    pub fn for_request(&self, request_id: Option<HeaderValue>) -> Caller {
        Caller {
            backend: self.clone(),
            request_id,
        }
    }
}

/// A backend, called on behalf of one request: every call sends that request's id, so the
/// backend's log lines for it carry the same id as web-service's.
#[derive(Debug, Clone)]
pub struct Caller {
    backend: Backend,
    request_id: Option<HeaderValue>,
}

impl Caller {
    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let request = self
            .backend
            .http
            .client
            .request(method, format!("{}{path}", self.backend.base_url));
        match &self.request_id {
            Some(id) => request.header(request_id::HEADER, id.clone()),
            None => request,
        }
    }

    /// Sends the request; a 2xx answer is passed on, anything else is a [`BackendError`].
    /// Timed in the backend's metrics.
    async fn send(&self, request: RequestBuilder) -> Result<Response, BackendError> {
        let started = Instant::now();
        let outcome = self.send_untimed(request).await;
        metrics::record_call(self.backend.name, started, &outcome);
        outcome
    }

    async fn send_untimed(&self, request: RequestBuilder) -> Result<Response, BackendError> {
        let response = self
            .execute(request)
            .await
            .map_err(|error| self.unavailable(Outage::NoAnswer(error)))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let message = response
            .json::<ErrorBody>()
            .await
            .ok()
            .map(|body| body.error);
        if status.is_client_error() {
            let message = message
                .unwrap_or_else(|| format!("{} refused the request ({status})", self.backend.name));
            return Err(BackendError::Rejected { status, message });
        }
        Err(self.unavailable(Outage::Failed {
            status,
            message: message.unwrap_or_else(|| "no error message".to_owned()),
        }))
    }

    /// Sends the request to the next replica, and to another if that one could not serve it.
    /// Whether that is safe depends on how far the request got:
    /// - not acted on: no connection was made (refused, or not in time), or a replica still
    ///   starting turned it away at its door (a 503 marked [`NOT_ACTED_ON`]). It is sent again
    ///   whatever it is, up to [`MOST_TRIES`] replicas in all: during a rolling update, the
    ///   next replica may be the new one still starting, and the one after it the old one
    ///   stopping.
    /// - perhaps acted on: a connection that broke or went silent before the answer (a node
    ///   that died mid-call), or a 503 from a replica whose database failed mid-call. It is
    ///   sent again once, and only if it is idempotent (GET, PUT, DELETE): never a POST that
    ///   would count a view twice.
    ///
    /// A replica that gave no answer is skipped for a while ([`Replicas::unreachable`]), one
    /// still starting for its `Retry-After`. Every try shares one deadline: a backend that
    /// hangs costs a page the timeout, not a multiple of it.
    async fn execute(&self, request: RequestBuilder) -> reqwest::Result<Response> {
        let mut request = request.build()?;
        let deadline = Instant::now() + self.backend.http.timeout;
        let idempotent = request.method().is_idempotent();
        let mut sent_again_after_acting = false;
        let mut tries = 0;
        loop {
            tries += 1;
            let spare = request.try_clone();
            let (address, outcome) = self.execute_on_next_replica(request, deadline).await;
            let judged = self.judge(address, &outcome).await;
            let send_again = match judged {
                Try::Served => false,
                Try::NotActedOn => true,
                Try::PerhapsActedOn => {
                    idempotent && !std::mem::replace(&mut sent_again_after_acting, true)
                }
            };
            match spare {
                Some(spare) if send_again && tries < MOST_TRIES && Instant::now() < deadline => {
                    metrics::record_retry(self.backend.name, matches!(judged, Try::PerhapsActedOn));
                    request = spare;
                }
                _ => return outcome,
            }
        }
    }

    /// How far one try got, and which replica to leave out of the turns for it.
    async fn judge(&self, address: Option<SocketAddr>, outcome: &reqwest::Result<Response>) -> Try {
        let replicas = &self.backend.replicas;
        match outcome {
            Ok(response) if response.status() != StatusCode::SERVICE_UNAVAILABLE => Try::Served,
            Ok(response) if response.headers().contains_key(NOT_ACTED_ON) => {
                if let Some(address) = address {
                    let retry_after = retry_after(response).unwrap_or(Duration::from_secs(1));
                    replicas.starting(address, retry_after).await;
                }
                Try::NotActedOn
            }
            Ok(_) => Try::PerhapsActedOn,
            Err(error) => {
                if let Some(address) = address {
                    replicas.unreachable(address).await;
                }
                if error.is_connect() {
                    Try::NotActedOn
                } else {
                    Try::PerhapsActedOn
                }
            }
        }
    }

    /// Sends the request to the next replica's address, with what is left until `deadline`;
    /// returns the address too, `None` when the call went to the name.
    async fn execute_on_next_replica(
        &self,
        mut request: Request,
        deadline: Instant,
    ) -> (Option<SocketAddr>, reqwest::Result<Response>) {
        let address = self.backend.replicas.next().await;
        let address = address.filter(|address| request.url_mut().set_ip_host(address.ip()).is_ok());
        if address.is_some() {
            request
                .headers_mut()
                .insert(header::HOST, self.backend.host.clone());
        }
        *request.timeout_mut() = Some(deadline.saturating_duration_since(Instant::now()));
        (address, self.backend.http.client.execute(request).await)
    }

    /// Sends the request and decodes a 2xx body; a body of the wrong shape means the backend
    /// is not the expected one.
    async fn json<T: serde::de::DeserializeOwned>(
        &self,
        request: RequestBuilder,
    ) -> Result<T, BackendError> {
        self.send(request)
            .await?
            .json()
            .await
            .map_err(|error| self.unavailable(Outage::UnexpectedAnswer(error)))
    }

    /// The error for a backend that did not serve the call. The page that degrades for it
    /// carries its [`Failure`] to the log ([`BackendError::failure`]).
    fn unavailable(&self, cause: Outage) -> BackendError {
        BackendError::Unavailable {
            backend: self.backend.name,
            cause,
        }
    }

    /// Asks `/ready` and times the round trip.
    pub async fn readiness(&self) -> BackendStatus {
        let started = Instant::now();
        let answer = self
            .json::<Readiness>(self.request(Method::GET, "/ready"))
            .await;
        let failure = answer.as_ref().err().and_then(BackendError::failure);
        let detail = match answer {
            Ok(readiness) if readiness.ready => None,
            Ok(readiness) => Some(readiness.error.unwrap_or_else(|| "not ready".to_owned())),
            Err(BackendError::Unavailable { cause, .. }) => Some(cause.summary()),
            Err(BackendError::Rejected { message, .. }) => Some(message),
        };
        BackendStatus {
            name: self.backend.name,
            url: self.backend.base_url.to_string(),
            ready: detail.is_none(),
            detail: detail.unwrap_or_else(|| "ready".to_owned()),
            round_trip_ms: access_log::milliseconds(started.elapsed()),
            failure,
        }
    }
}

/// A response's `Retry-After` in seconds; the HTTP-date form is not used by the backends.
fn retry_after(response: &Response) -> Option<Duration> {
    let seconds = response.headers().get(header::RETRY_AFTER)?.to_str().ok()?;
    seconds.parse().ok().map(Duration::from_secs)
}

/// Why a backend call did not give what the page asked for.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// Not reachable, too slow, answering 5xx or nonsense: the page degrades.
    #[error("{backend} is unavailable")]
    Unavailable {
        backend: &'static str,
        #[source]
        cause: Outage,
    },
    /// A 4xx with the backend's message for a human: the page shows it.
    #[error("{message}")]
    Rejected { status: StatusCode, message: String },
}

impl BackendError {
    /// Why the page degrades, for the log: a backend that did not serve the call. A refusal
    /// (4xx) is the backend doing its job, and the page says it to the user.
    pub fn failure(&self) -> Option<Failure> {
        match self {
            Self::Unavailable { backend, .. } => Some(Failure::degraded(backend, self)),
            Self::Rejected { .. } => None,
        }
    }

    /// Why a part of the page is missing, in a few words that name the service at fault: a
    /// backend that does not answer is not one that answers that its own database is down.
    pub fn for_the_page(&self) -> String {
        match self {
            Self::Unavailable {
                backend,
                cause: Outage::NoAnswer(_),
            } => format!("{backend} is not answering"),
            Self::Unavailable {
                backend,
                cause: Outage::Failed { message, .. },
            } => format!("{backend} answers, but says: {message}"),
            Self::Unavailable {
                backend,
                cause: Outage::UnexpectedAnswer(_),
            } => format!("{backend} answers, but not as web-service expects"),
            Self::Rejected { message, .. } => message.clone(),
        }
    }
}

/// How a backend failed a call.
#[derive(Debug, thiserror::Error)]
pub enum Outage {
    /// Refused, unreachable or too slow: reqwest's error says which.
    #[error("no answer")]
    NoAnswer(#[source] reqwest::Error),
    /// A 5xx, with the backend's error message.
    #[error("it answered {status}: {message}")]
    Failed { status: StatusCode, message: String },
    #[error("its answer is not what web-service expects")]
    UnexpectedAnswer(#[source] reqwest::Error),
}

impl Outage {
    /// A few words for the status page.
    fn summary(&self) -> String {
        match self {
            Self::NoAnswer(error) if error.is_timeout() => "timed out".to_owned(),
            Self::NoAnswer(error) if error.is_connect() => {
                "connection refused or unreachable".to_owned()
            }
            Self::NoAnswer(_) => "request failed".to_owned(),
            Self::Failed { message, .. } => message.clone(),
            Self::UnexpectedAnswer(_) => "unexpected answer to /ready".to_owned(),
        }
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
    /// Why the call failed, for the log of the request that asked.
    #[serde(skip)]
    pub failure: Option<Failure>,
}
