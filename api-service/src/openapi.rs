//! api-service's OpenAPI document, generated from its handlers and types.

use utoipa::OpenApi;

use crate::routes::{self, tasks};

#[derive(OpenApi)]
#[openapi(
    info(description = "The task manager: tasks stored in PostgreSQL."),
    paths(
        tasks::list,
        tasks::create,
        tasks::show,
        tasks::replace,
        tasks::complete,
        tasks::remove
    )
)]
struct ApiDoc;

/// The document served at `GET /openapi.json`: `openapi.json` beside the crate's manifest,
/// which the crate's tests hold to what [`generate`] makes of the code.
pub const DOCUMENT: &str = include_str!("../openapi.json");

/// The document the code describes: this crate's routes and the shared ones.
pub fn generate() -> serde_json::Result<String> {
    shared::openapi::document(ApiDoc::openapi(), &routes::info())
}
