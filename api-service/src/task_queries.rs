//! The SQL of the task manager. Every query is a single statement, so each change is atomic
//! without an explicit transaction.

use shared::api::Task;
use sqlx::PgPool;
use time::OffsetDateTime;

use crate::validation::{ListFilter, ValidTask};

/// The columns of a [`TaskRow`], as a macro so that each query stays one `&'static str`, which
/// sqlx prepares once per connection and then reuses.
macro_rules! columns {
    () => {
        "id, title, description, completed, created_at, updated_at"
    };
}

/// A row of `tasks`. `Task` lives in `shared`, which knows nothing of sqlx, hence this twin.
#[derive(sqlx::FromRow)]
struct TaskRow {
    id: i64,
    title: String,
    description: String,
    completed: bool,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl From<TaskRow> for Task {
    fn from(row: TaskRow) -> Self {
        Self {
            id: row.id,
            title: row.title,
            description: row.description,
            completed: row.completed,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

pub async fn list(pool: &PgPool, filter: ListFilter) -> sqlx::Result<Vec<Task>> {
    let rows: Vec<TaskRow> = sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM tasks WHERE $1::boolean IS NULL OR completed = $1 ORDER BY id LIMIT $2 OFFSET $3"
    ))
    .bind(filter.completed)
    .bind(filter.limit)
    .bind(filter.offset)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(Task::from).collect())
}

pub async fn insert(pool: &PgPool, task: &ValidTask) -> sqlx::Result<Task> {
    let row: TaskRow = sqlx::query_as(concat!(
        "INSERT INTO tasks (title, description) VALUES ($1, $2) RETURNING ",
        columns!()
    ))
    .bind(&task.title)
    .bind(&task.description)
    .fetch_one(pool)
    .await?;
    Ok(row.into())
}

pub async fn find(pool: &PgPool, id: i64) -> sqlx::Result<Option<Task>> {
    let row: Option<TaskRow> =
        sqlx::query_as(concat!("SELECT ", columns!(), " FROM tasks WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?;
    Ok(row.map(Task::from))
}

pub async fn replace(pool: &PgPool, id: i64, task: &ValidTask) -> sqlx::Result<Option<Task>> {
    let row: Option<TaskRow> = sqlx::query_as(concat!(
        "UPDATE tasks SET title = $2, description = $3, updated_at = now() WHERE id = $1 RETURNING ",
        columns!()
    ))
    .bind(id)
    .bind(&task.title)
    .bind(&task.description)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(Task::from))
}

/// Marks the task completed. Completing it again changes nothing, not even `updated_at`.
pub async fn complete(pool: &PgPool, id: i64) -> sqlx::Result<Option<Task>> {
    let row: Option<TaskRow> = sqlx::query_as(concat!(
        "UPDATE tasks SET completed = TRUE, ",
        "updated_at = CASE WHEN completed THEN updated_at ELSE now() END ",
        "WHERE id = $1 RETURNING ",
        columns!()
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(Task::from))
}

/// Whether a task was deleted.
pub async fn delete(pool: &PgPool, id: i64) -> sqlx::Result<bool> {
    let result = sqlx::query("DELETE FROM tasks WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(result.rows_affected() == 1)
}
