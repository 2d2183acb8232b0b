//! The one JSON error type of all services: `{"error": "<message for a human>"}` and a status.
//!
//! Client errors carry a message that helps the caller fix the request. Server errors are
//! logged with their cause and answer a generic message: the text of a database or network
//! error is for the operator, not for whoever sent the request.

use std::{borrow::Cow, fmt::Display};

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};

use crate::api::ErrorBody;

/// An HTTP error with a message safe to show to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    status: StatusCode,
    message: Cow<'static, str>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status,
            message: message.into(),
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

    /// A dependency is down: logged with its cause, answered with 503 naming the dependency.
    pub fn unavailable(dependency: &str, cause: &impl Display) -> Self {
        tracing::warn!(dependency, error = %cause, "dependency unavailable");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("{dependency} is unavailable, try again shortly"),
        )
    }

    /// A bug or an unexpected failure: logged with its cause, answered with a generic 500.
    pub fn internal(cause: &impl Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal server error")
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: self.message.into_owned(),
        };
        (self.status, Json(body)).into_response()
    }
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
