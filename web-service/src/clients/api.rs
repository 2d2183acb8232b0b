//! api-service, as the pages use it.

use shared::api::{Task, TaskInput};

use super::{BackendError, checked, json};

const NAME: &str = "api-service";

#[derive(Debug, Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    base_url: String,
}

impl ApiClient {
    pub fn new(http: reqwest::Client, base_url: String) -> Self {
        Self { http, base_url }
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The first 1000 tasks, the most one page lists.
    pub async fn list(&self) -> Result<Vec<Task>, BackendError> {
        let response = self
            .http
            .get(format!("{}/tasks?limit=1000", self.base_url))
            .send()
            .await;
        json(NAME, checked(NAME, response).await?).await
    }

    pub async fn create(&self, input: &TaskInput) -> Result<Task, BackendError> {
        let response = self
            .http
            .post(format!("{}/tasks", self.base_url))
            .json(input)
            .send()
            .await;
        json(NAME, checked(NAME, response).await?).await
    }

    pub async fn complete(&self, id: i64) -> Result<Task, BackendError> {
        let response = self
            .http
            .put(format!("{}/tasks/{id}/complete", self.base_url))
            .send()
            .await;
        json(NAME, checked(NAME, response).await?).await
    }

    pub async fn delete(&self, id: i64) -> Result<(), BackendError> {
        let response = self
            .http
            .delete(format!("{}/tasks/{id}", self.base_url))
            .send()
            .await;
        checked(NAME, response).await.map(drop)
    }
}
