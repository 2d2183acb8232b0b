//! The JSON bodies the services exchange: one definition of each contract, used by the service
//! that answers and by the client that calls it, and described by the same definition in each
//! service's OpenAPI document.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{
    ToSchema,
    openapi::{Object, ObjectBuilder, Type},
};

/// The most characters of a title, counted after trimming.
pub const TITLE_MAX_CHARS: usize = 200;
/// The most characters of a description.
pub const DESCRIPTION_MAX_CHARS: usize = 2000;

/// A header a service adds to a 503 it answered before acting on the request at all: a replica
/// still starting turns every request away at its door ([`crate::health::warm_up::GateLayer`]).
/// Such a request may be sent to another replica whatever its method. A 503 without it may
/// come after the work was done (a database that timed out mid-write), and only an idempotent
/// request is safe to send again then. Its value says why.
pub const NOT_ACTED_ON: &str = "x-not-acted-on";

/// Rust's whitespace (`char::is_whitespace`), as a regex character range: `\s` differs between
/// regex dialects, and from Rust.
macro_rules! whitespace {
    () => {
        r"\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000"
    };
}

/// A title as JSON Schema says what api-service accepts: once trimmed, 1 to
/// [`TITLE_MAX_CHARS`] characters (the first and last not whitespace, at most 198 between
/// them), and no NUL anywhere. api-service's tests check it against the validation itself.
pub const TITLE_PATTERN: &str = concat!(
    "^[",
    whitespace!(),
    "]*",
    r"[^\u0000",
    whitespace!(),
    "]",
    r"(?:[^\u0000]{0,198}[^\u0000",
    whitespace!(),
    "])?",
    "[",
    whitespace!(),
    "]*$",
);

/// A task as api-service returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Task {
    #[schema(minimum = 1)]
    pub id: i64,
    /// Trimmed.
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    #[schema(max_length = 2000)]
    pub description: String,
    pub completed: bool,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

/// The body of `POST /tasks` and `PUT /tasks/{id}`: a JSON object, nothing else. Other members
/// are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "serde_json::Map<String, serde_json::Value>")]
pub struct TaskInput {
    #[schema(schema_with = title_schema)]
    pub title: String,
    /// At most 2,000 characters, no NUL; missing or null is empty.
    #[schema(
        max_length = 2000,
        pattern = r"^[^\u0000]*$",
        examples("From the first FROM to the last COPY, stage by stage.")
    )]
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

fn title_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(
            "1 to 200 characters once leading and trailing whitespace is trimmed; no NUL.",
        ))
        .pattern(Some(TITLE_PATTERN))
        .examples(["Read the multi-stage Dockerfile"])
        .build()
}

/// One counter of db-service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Hits {
    #[schema(
        pattern = r"^[A-Za-z0-9._:-]{1,64}$",
        min_length = 1,
        max_length = 64,
        examples("web:home")
    )]
    pub key: String,
    #[schema(minimum = 0)]
    pub hits: i64,
}

/// The body of every service's `GET /`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong, for a human; for a client error, how to fix the request.
    pub error: String,
}

/// The body of `GET /ready`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Readiness {
    /// `true` when every dependency answered.
    pub ready: bool,
    /// Present when not ready, naming what is down, so the body also reads as an `ErrorBody`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub dependencies: Vec<DependencyStatus>,
}

/// Whether one dependency answered its readiness check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DependencyStatus {
    pub name: String,
    pub reachable: bool,
}
