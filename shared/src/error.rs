//! The one JSON error type of all services: `{"error": "<message for a human>"}` and a status.
//!
//! Client errors carry a message that helps the caller fix the request. Server errors answer a
//! generic message: the text of a database or network error is for the operator, not for
//! whoever sent the request. They carry that text, the whole cause chain, as a [`Failure`] on
//! the response, which the access log writes inside the request's span: building an error
//! logs nothing.

use std::{borrow::Cow, error::Error, fmt::Write};

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};

use crate::{api::ErrorBody, telemetry::failure::Failure};

/// An HTTP error with a message safe to show to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    status: StatusCode,
    message: Cow<'static, str>,
    /// Why, for the log: server errors only.
    failure: Option<Failure>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status,
            message: message.into(),
            failure: None,
        }
    }

    pub fn bad_request(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    pub fn unprocessable(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }

    /// A dependency is down: answered with 503 naming the dependency, logged with its causes.
    pub fn unavailable(dependency: &str, cause: &(dyn Error + 'static)) -> Self {
        Self {
            failure: Some(Failure::unavailable(dependency.to_owned(), cause)),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("{dependency} is unavailable, try again shortly"),
            )
        }
    }

    /// A bug or an unexpected failure: answered with a generic 500, logged with its causes.
    pub fn internal(cause: &(dyn Error + 'static)) -> Self {
        Self {
            failure: Some(Failure::internal(cause)),
            ..Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal server error")
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: self.message.into_owned(),
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(failure) = self.failure {
            failure.attach(&mut response);
        }
        response
    }
}

/// The error and its sources on one line, outermost first: `a: b: c`. A source whose text its
/// parent already printed (many errors write `"{context}: {source}"`) is not repeated.
pub fn chain(error: &(dyn Error + 'static)) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !line.ends_with(&text) {
            write!(line, ": {text}").expect("writing to a String cannot fail");
        }
        source = cause.source();
    }
    line
}

/// The JSON 404 for paths no route matches.
pub async fn no_such_route() -> ApiError {
    ApiError::not_found("no such route")
}

/// The JSON 405 for a known path called with the wrong method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "this method is not allowed on this route",
    )
}

#[cfg(test)]
mod tests {
    use std::{fmt, io};

    use super::*;

    /// An error that prints its context, and its source only when asked to.
    #[derive(Debug)]
    struct Context {
        text: &'static str,
        source: io::Error,
        repeats_source: bool,
    }

    impl fmt::Display for Context {
        fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
            if self.repeats_source {
                write!(formatter, "{}: {}", self.text, self.source)
            } else {
                formatter.write_str(self.text)
            }
        }
    }

    impl Error for Context {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.source)
        }
    }

    fn refused() -> io::Error {
        io::Error::new(io::ErrorKind::ConnectionRefused, "connection refused")
    }

    #[test]
    fn the_chain_names_every_cause_once_outermost_first() {
        let terse = Context {
            text: "error sending request",
            source: refused(),
            repeats_source: false,
        };
        assert_eq!(chain(&terse), "error sending request: connection refused");
        let verbose = Context {
            text: "error communicating with database",
            source: refused(),
            repeats_source: true,
        };
        assert_eq!(
            chain(&verbose),
            "error communicating with database: connection refused"
        );
    }
}
