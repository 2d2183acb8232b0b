//! `/tasks`: list, create, get, replace, complete and delete tasks.

use axum::{
    Router,
    extract::State,
    http::{StatusCode, header},
    response::IntoResponse,
    routing::{get, put},
};
use shared::{
    api::{ErrorBody, Task, TaskInput},
    http::extract::{Json, Path, Query},
};

use utoipa::IntoParams;

use crate::{
    error::Error,
    state::AppState,
    validation::{self, ListFilter, ListQuery, ValidTask},
};

const UNAVAILABLE: &str =
    "PostgreSQL is unavailable, or the request took longer than REQUEST_TIMEOUT";
const MALFORMED: &str = "The body is not well-formed JSON";
const TOO_LARGE: &str = "The body is larger than BODY_LIMIT_BYTES";
const NOT_JSON: &str = "The body is not declared `application/json`";
const INVALID_TASK: &str = "The body is JSON but not a valid task: not an object, a member of the wrong type, or a title or description that breaks its rule";
const BAD_ID: &str = "The id is not a task id: ids are positive 64-bit integers";
const NOT_FOUND: &str = "No task has this id";

/// The `{id}` of the routes of one task.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TaskId {
    /// The task's id.
    #[param(minimum = 1, maximum = 9_223_372_036_854_775_807_i64)]
    #[expect(
        dead_code,
        reason = "read by utoipa's derive only: the handler parses the path itself"
    )]
    id: i64,
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tasks", get(list).post(create))
        .route("/tasks/{id}", get(show).put(replace).delete(remove))
        .route("/tasks/{id}/complete", put(complete))
}

/// Lists tasks, oldest first.
#[utoipa::path(get, path = "/tasks", tag = "tasks", operation_id = "list_tasks",
    params(ListQuery),
    responses(
        (status = 200, description = "The tasks, oldest first", body = [Task]),
        (status = 400, description = "A query parameter is not of its type or out of its range", body = ErrorBody),
        (status = 503, description = UNAVAILABLE, body = ErrorBody),
    ))]
pub async fn list(
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Vec<Task>>, Error> {
    let filter = ListFilter::try_from(query)?;
    Ok(Json(state.tasks.list(filter).await?))
}

/// Creates a task.
#[utoipa::path(post, path = "/tasks", tag = "tasks", operation_id = "create_task",
    request_body = TaskInput,
    responses(
        (status = 201, description = "Created", body = Task,
            headers(("location" = String, description = "The new task's path, `/tasks/{id}`")),
            links(
                ("GetTask" = (operation_id = "get_task", parameters(("id" = "$response.body#/id")))),
                ("ReplaceTask" = (operation_id = "replace_task", parameters(("id" = "$response.body#/id")))),
                ("CompleteTask" = (operation_id = "complete_task", parameters(("id" = "$response.body#/id")))),
                ("DeleteTask" = (operation_id = "delete_task", parameters(("id" = "$response.body#/id")))),
            )),
        (status = 400, description = MALFORMED, body = ErrorBody),
        (status = 413, description = TOO_LARGE, body = ErrorBody),
        (status = 415, description = NOT_JSON, body = ErrorBody),
        (status = 422, description = INVALID_TASK, body = ErrorBody),
        (status = 503, description = UNAVAILABLE, body = ErrorBody),
    ))]
pub async fn create(
    State(state): State<AppState>,
    Json(input): Json<TaskInput>,
) -> Result<impl IntoResponse, Error> {
    let task = ValidTask::try_from(input)?;
    let task = state.tasks.insert(&task).await?;
    let location = format!("/tasks/{}", task.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(task),
    ))
}

/// One task.
#[utoipa::path(get, path = "/tasks/{id}", tag = "tasks", operation_id = "get_task",
    params(TaskId),
    responses(
        (status = 200, description = "The task", body = Task),
        (status = 400, description = BAD_ID, body = ErrorBody),
        (status = 404, description = NOT_FOUND, body = ErrorBody),
        (status = 503, description = UNAVAILABLE, body = ErrorBody),
    ))]
pub async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Task>, Error> {
    let id = validation::task_id(&id)?;
    let task = state.tasks.find(id).await?;
    task.map(Json).ok_or(Error::TaskNotFound(id))
}

/// Replaces a task's title and description; `completed` is kept.
#[utoipa::path(put, path = "/tasks/{id}", tag = "tasks", operation_id = "replace_task",
    params(TaskId),
    request_body = TaskInput,
    responses(
        (status = 200, description = "The task as replaced", body = Task),
        (status = 400, description = "The id is not a task id, or the body is not JSON", body = ErrorBody),
        (status = 404, description = NOT_FOUND, body = ErrorBody),
        (status = 413, description = TOO_LARGE, body = ErrorBody),
        (status = 415, description = NOT_JSON, body = ErrorBody),
        (status = 422, description = INVALID_TASK, body = ErrorBody),
        (status = 503, description = UNAVAILABLE, body = ErrorBody),
    ))]
pub async fn replace(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(input): Json<TaskInput>,
) -> Result<Json<Task>, Error> {
    let id = validation::task_id(&id)?;
    let task = ValidTask::try_from(input)?;
    let task = state.tasks.replace(id, &task).await?;
    task.map(Json).ok_or(Error::TaskNotFound(id))
}

/// Marks a task completed; completing it again changes nothing.
#[utoipa::path(put, path = "/tasks/{id}/complete", tag = "tasks", operation_id = "complete_task",
    params(TaskId),
    responses(
        (status = 200, description = "The task, completed", body = Task),
        (status = 400, description = BAD_ID, body = ErrorBody),
        (status = 404, description = NOT_FOUND, body = ErrorBody),
        (status = 503, description = UNAVAILABLE, body = ErrorBody),
    ))]
pub async fn complete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Task>, Error> {
    let id = validation::task_id(&id)?;
    let task = state.tasks.complete(id).await?;
    task.map(Json).ok_or(Error::TaskNotFound(id))
}

/// Deletes a task.
#[utoipa::path(delete, path = "/tasks/{id}", tag = "tasks", operation_id = "delete_task",
    params(TaskId),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = BAD_ID, body = ErrorBody),
        (status = 404, description = NOT_FOUND, body = ErrorBody),
        (status = 503, description = UNAVAILABLE, body = ErrorBody),
    ))]
pub async fn remove(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, Error> {
    let id = validation::task_id(&id)?;
    if state.tasks.delete(id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Error::TaskNotFound(id))
    }
}
