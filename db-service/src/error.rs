//! The errors of db-service's handlers and how each is answered.

use axum::response::{IntoResponse, Response};
use shared::error::ApiError;

use crate::{counters::CommandError, key::InvalidKey};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 400: the counter name breaks the rules.
    #[error(transparent)]
    InvalidKey(#[from] InvalidKey),
    /// 404: no counter has this key; it was never hit, or it was deleted.
    #[error("no counter {0:?}: it was never hit, or it was deleted")]
    NoCounter(String),
    /// 503 when Redis cannot be reached, else 500; never shown to the client.
    #[error(transparent)]
    Redis(#[from] CommandError),
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let error = match &self {
            Self::InvalidKey(_) => ApiError::bad_request(self.to_string()),
            Self::NoCounter(_) => ApiError::not_found(self.to_string()),
            Self::Redis(error) if error.is_unavailable() => ApiError::unavailable("redis", error),
            Self::Redis(error) => ApiError::internal(error),
        };
        error.into_response()
    }
}
