//! The JSON bodies the services exchange: one definition of each contract, used by the service
//! that answers and by the client that calls it.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A task as api-service returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub completed: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// The body of `POST /tasks` and `PUT /tasks/{id}`: a JSON object, nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "serde_json::Map<String, serde_json::Value>")]
pub struct TaskInput {
    pub title: String,
    pub description: Option<String>,
}

/// serde's derive also builds a struct from a JSON array (`["title"]`); taking a map and
/// reading the fields by hand refuses anything but an object, with messages that name the field.
impl TryFrom<serde_json::Map<String, serde_json::Value>> for TaskInput {
    type Error = String;

    fn try_from(mut object: serde_json::Map<String, serde_json::Value>) -> Result<Self, String> {
        use serde_json::Value;
        let title = match object.remove("title") {
            Some(Value::String(title)) => title,
            None => return Err("missing field `title`".to_owned()),
            Some(_) => return Err("`title` must be a string".to_owned()),
        };
        let description = match object.remove("description") {
            None | Some(Value::Null) => None,
            Some(Value::String(description)) => Some(description),
            Some(_) => return Err("`description` must be a string or null".to_owned()),
        };
        Ok(Self { title, description })
    }
}

/// One counter of db-service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hits {
    pub key: String,
    pub hits: i64,
}

/// The body of every service's `GET /`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceInfo {
    pub service: String,
    pub version: String,
}

impl ServiceInfo {
    /// Pass `env!("CARGO_PKG_NAME")` and `env!("CARGO_PKG_VERSION")` of the answering crate.
    pub fn new(service: &str, version: &str) -> Self {
        Self {
            service: service.to_owned(),
            version: version.to_owned(),
        }
    }
}

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
}

/// The body of `GET /ready`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Readiness {
    /// `true` when every dependency answered.
    pub ready: bool,
    /// Present when not ready, naming what is down, so the body also reads as an [`ErrorBody`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub dependencies: Vec<DependencyStatus>,
}

/// Whether one dependency answered its readiness check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DependencyStatus {
    pub name: String,
    pub reachable: bool,
}
