//! db-service, as the pages use it.

use reqwest::{Method, StatusCode};
use shared::api::Hits;

use super::{BackendError, Caller};

pub const NAME: &str = "db-service";

/// db-service, called on behalf of one request.
#[derive(Debug, Clone)]
pub struct CounterClient(pub Caller);

impl CounterClient {
    /// Counts one hit on `key` and returns the new count.
    pub async fn hit(&self, key: &str) -> Result<i64, BackendError> {
        let path = format!("/hits/{key}");
        let hits: Hits = self.0.json(self.0.request(Method::POST, &path)).await?;
        Ok(hits.hits)
    }

    /// The count of `key`, without counting a hit.
    pub async fn get(&self, key: &str) -> Result<i64, BackendError> {
        let path = format!("/hits/{key}");
        match self
            .0
            .json::<Hits>(self.0.request(Method::GET, &path))
            .await
        {
            Ok(hits) => Ok(hits.hits),
            // db-service has no counter for a key never hit: for the page, it counts zero.
            Err(BackendError::Rejected { status, .. }) if status == StatusCode::NOT_FOUND => Ok(0),
            Err(error) => Err(error),
        }
    }
}
