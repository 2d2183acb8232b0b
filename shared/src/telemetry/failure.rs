//! What went wrong while a request was served, carried by its response to the log.
//!
//! Building an error, or a degraded answer, has no side effect: the code that builds it puts
//! a [`Failure`] on the response, as an extension, and the access log layer
//! ([`super::access_log`]) writes it once, with the request's fields, just before the
//! request's own line. So the line that says 503 also says why, an error that is built but
//! never answered logs nothing, and a test can build errors without a subscriber. axum's
//! `examples/error-handling` does the same, for the same reasons.

use std::{borrow::Cow, error::Error};

use axum::response::Response;

use crate::error::chain;

/// One failure, with its cause chain: for the operator, never for the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The service answered 503: a dependency did not serve the request.
    Unavailable {
        dependency: Cow<'static, str>,
        error: String,
    },
    /// The service answered 500: a bug, or a failure nothing expected.
    Internal { error: String },
    /// `/ready` found a dependency down.
    NotReady { dependency: String, error: String },
    /// A call to a backend failed; the page was served without what it would have given.
    Degraded {
        backend: &'static str,
        error: String,
    },
}

impl Failure {
    pub fn unavailable(
        dependency: impl Into<Cow<'static, str>>,
        cause: &(dyn Error + 'static),
    ) -> Self {
        Self::Unavailable {
            dependency: dependency.into(),
            error: chain(cause),
        }
    }

    pub fn internal(cause: &(dyn Error + 'static)) -> Self {
        Self::Internal {
            error: chain(cause),
        }
    }

    pub fn not_ready(dependency: &str, cause: &(dyn Error + 'static)) -> Self {
        Self::NotReady {
            dependency: dependency.to_owned(),
            error: chain(cause),
        }
    }

    pub fn degraded(backend: &'static str, cause: &(dyn Error + 'static)) -> Self {
        Self::Degraded {
            backend,
            error: chain(cause),
        }
    }

    /// Puts the failure on `response`, after any it carries already.
    pub fn attach(self, response: &mut Response) {
        Self::attach_all(response, [self]);
    }

    /// Puts the failures on `response`, in order, after any it carries already.
    pub fn attach_all(response: &mut Response, failures: impl IntoIterator<Item = Self>) {
        let mut failures = failures.into_iter().peekable();
        if failures.peek().is_some() {
            response
                .extensions_mut()
                .get_or_insert_default::<Failures>()
                .0
                .extend(failures);
        }
    }

    /// Writes its log line, in the current span: [`super::access_log`] calls this.
    pub fn log(&self) {
        match self {
            Self::Unavailable { dependency, error } => tracing::warn!(
                dependency = &**dependency,
                error,
                "answered 503: a dependency is unavailable"
            ),
            Self::Internal { error } => tracing::error!(error, "answered 500: internal error"),
            Self::NotReady { dependency, error } => {
                tracing::warn!(dependency, error, "not ready: a dependency is unavailable");
            }
            Self::Degraded { backend, error } => {
                tracing::warn!(backend, error, "backend call failed, the page degrades");
            }
        }
    }
}

/// The failures one response carries: its extension.
#[derive(Debug, Clone, Default)]
pub struct Failures(Vec<Failure>);

impl Failures {
    /// The failures `response` carries, in the order they were attached.
    pub fn of<B>(response: &axum::http::Response<B>) -> &[Failure] {
        response
            .extensions()
            .get::<Self>()
            .map_or(&[], |failures| failures.0.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use std::io;

    use axum::response::IntoResponse;

    use super::*;

    fn refused() -> io::Error {
        io::Error::new(io::ErrorKind::ConnectionRefused, "connection refused")
    }

    #[test]
    fn a_response_carries_each_failure_attached_to_it_in_order() {
        let mut response = "page".into_response();
        assert!(Failures::of(&response).is_empty());
        Failure::degraded("db-service", &refused()).attach(&mut response);
        Failure::internal(&refused()).attach(&mut response);
        assert_eq!(
            Failures::of(&response),
            [
                Failure::Degraded {
                    backend: "db-service",
                    error: "connection refused".to_owned()
                },
                Failure::Internal {
                    error: "connection refused".to_owned()
                }
            ]
        );
    }
}
