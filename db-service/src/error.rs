//! The errors of db-service's handlers and how each is answered.

use axum::response::{IntoResponse, Response};
use shared::error::ApiError;

use crate::{counters, key};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 400: the counter name breaks the rules of [`key::CounterKey`].
    #[error(
        "{0:?} is not a counter key: use 1 to {max} characters of A-Z a-z 0-9 . _ : -",
        max = key::MAX_LENGTH
    )]
    InvalidKey(String),
    /// 503 when Redis cannot be reached, else 500; never shown to the client.
    #[error(transparent)]
    Redis(#[from] redis::RedisError),
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let error = match &self {
            Self::InvalidKey(_) => ApiError::bad_request(self.to_string()),
            Self::Redis(error) if counters::is_unavailable(error) => {
                ApiError::unavailable("redis", error)
            }
            Self::Redis(error) => ApiError::internal(error),
        };
        error.into_response()
    }
}
