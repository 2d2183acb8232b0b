//! db-service, as the pages use it.

use shared::api::Hits;

use super::{BackendError, checked, json};

const NAME: &str = "db-service";

#[derive(Debug, Clone)]
pub struct CounterClient {
    http: reqwest::Client,
    base_url: String,
}

impl CounterClient {
    pub fn new(http: reqwest::Client, base_url: String) -> Self {
        Self { http, base_url }
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Counts one hit on `key` and returns the new count.
    pub async fn hit(&self, key: &str) -> Result<i64, BackendError> {
        let response = self
            .http
            .post(format!("{}/hits/{key}", self.base_url))
            .send()
            .await;
        let hits: Hits = json(NAME, checked(NAME, response).await?).await?;
        Ok(hits.hits)
    }

    /// The count of `key`, without counting a hit.
    pub async fn get(&self, key: &str) -> Result<i64, BackendError> {
        let response = self
            .http
            .get(format!("{}/hits/{key}", self.base_url))
            .send()
            .await;
        let hits: Hits = json(NAME, checked(NAME, response).await?).await?;
        Ok(hits.hits)
    }
}
