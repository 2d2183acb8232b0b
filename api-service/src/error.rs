//! The errors of api-service's handlers and how each is answered.

use axum::response::{IntoResponse, Response};
use shared::error::ApiError;

use crate::postgres::QueryError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The id in the path is not a task id: 400.
    #[error("`{0}` is not a task id: ids are positive integers")]
    InvalidId(String),
    /// A query parameter is out of range: 400.
    #[error("{0}")]
    InvalidQuery(String),
    /// The body is well-formed JSON but breaks a rule: 422.
    #[error("{0}")]
    InvalidTask(String),
    #[error("task {0} not found")]
    TaskNotFound(i64),
    /// 503 when PostgreSQL cannot be reached, else 500; never shown to the client.
    #[error(transparent)]
    Database(#[from] QueryError),
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let error = match &self {
            Self::InvalidId(_) | Self::InvalidQuery(_) => ApiError::bad_request(self.to_string()),
            Self::InvalidTask(_) => ApiError::unprocessable(self.to_string()),
            Self::TaskNotFound(_) => ApiError::not_found(self.to_string()),
            Self::Database(error) if error.is_unavailable() => {
                ApiError::unavailable("the database", error)
            }
            Self::Database(error) => ApiError::internal(error),
        };
        error.into_response()
    }
}
