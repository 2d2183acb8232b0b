//! api-service, as the pages use it.

use reqwest::Method;
use shared::api::{Task, TaskInput};

use super::{BackendError, Caller};

pub const NAME: &str = "api-service";

/// api-service, called on behalf of one request.
#[derive(Debug, Clone)]
pub struct ApiClient(pub Caller);

impl ApiClient {
    /// The first 1000 tasks, the most one page lists.
    pub async fn list(&self) -> Result<Vec<Task>, BackendError> {
        self.0
            .json(self.0.request(Method::GET, "/tasks?limit=1000"))
            .await
    }

    pub async fn create(&self, input: &TaskInput) -> Result<Task, BackendError> {
        self.0
            .json(self.0.request(Method::POST, "/tasks").json(input))
            .await
    }

    pub async fn complete(&self, id: i64) -> Result<Task, BackendError> {
        let path = format!("/tasks/{id}/complete");
        self.0.json(self.0.request(Method::PUT, &path)).await
    }

    pub async fn delete(&self, id: i64) -> Result<(), BackendError> {
        let path = format!("/tasks/{id}");
        self.0
            .send(self.0.request(Method::DELETE, &path))
            .await
            .map(drop)
    }
}
