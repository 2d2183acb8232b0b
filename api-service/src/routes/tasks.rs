//! `/tasks`: list, create, get, replace, complete and delete tasks.

use axum::{
    Router,
    extract::State,
    http::{StatusCode, header},
    response::IntoResponse,
    routing::{get, put},
};
use shared::{
    api::{Task, TaskInput},
    extract::{Json, Path, Query},
};

use crate::{
    error::Error,
    state::AppState,
    task_queries,
    validation::{self, ListFilter, ListQuery, ValidTask},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/tasks", get(list).post(create))
        .route("/tasks/{id}", get(show).put(replace).delete(remove))
        .route("/tasks/{id}/complete", put(complete))
}

async fn list(
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Vec<Task>>, Error> {
    let filter = ListFilter::try_from(query)?;
    Ok(Json(
        state.query(task_queries::list(&state.pool, filter)).await?,
    ))
}

async fn create(
    State(state): State<AppState>,
    Json(input): Json<TaskInput>,
) -> Result<impl IntoResponse, Error> {
    let task = ValidTask::try_from(input)?;
    let task = state
        .query(task_queries::insert(&state.pool, &task))
        .await?;
    let location = format!("/tasks/{}", task.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(task),
    ))
}

async fn show(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<Task>, Error> {
    let id = validation::task_id(&id)?;
    let task = state.query(task_queries::find(&state.pool, id)).await?;
    task.map(Json).ok_or(Error::TaskNotFound(id))
}

async fn replace(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(input): Json<TaskInput>,
) -> Result<Json<Task>, Error> {
    let id = validation::task_id(&id)?;
    let task = ValidTask::try_from(input)?;
    let task = state
        .query(task_queries::replace(&state.pool, id, &task))
        .await?;
    task.map(Json).ok_or(Error::TaskNotFound(id))
}

async fn complete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Task>, Error> {
    let id = validation::task_id(&id)?;
    let task = state.query(task_queries::complete(&state.pool, id)).await?;
    task.map(Json).ok_or(Error::TaskNotFound(id))
}

async fn remove(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, Error> {
    let id = validation::task_id(&id)?;
    if state.query(task_queries::delete(&state.pool, id)).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Error::TaskNotFound(id))
    }
}
