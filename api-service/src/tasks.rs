//! The task store: the SQL of the task manager, run on the pool it holds. Every query is a
//! single statement, so each change is atomic without an explicit transaction. A query that
//! fails comes back as a [`QueryError`] that says what the database did.

use shared::api::Task;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;

use crate::{
    postgres::{self, QueryError},
    validation::{ListFilter, ValidTask},
};

/// The tasks, in PostgreSQL.
#[derive(Debug, Clone)]
pub struct TaskStore {
    pool: PgPool,
}

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

impl TaskStore {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// The pool, for start-up (migrations) and readiness.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub async fn list(&self, filter: ListFilter) -> Result<Vec<Task>, QueryError> {
        let rows: Vec<TaskRow> = self
            .run("list", async |connection| {
                    sqlx::query_as(concat!(
                        "SELECT ",
                        columns!(),
                        " FROM tasks WHERE $1::boolean IS NULL OR completed = $1 ORDER BY id LIMIT $2 OFFSET $3"
                    ))
                    .bind(filter.completed)
                    .bind(filter.limit)
                    .bind(filter.offset)
                    .fetch_all(connection)
                        .await
                })
            .await?;
        Ok(rows.into_iter().map(Task::from).collect())
    }

    pub async fn insert(&self, task: &ValidTask) -> Result<Task, QueryError> {
        let row: TaskRow = self
            .run("insert", async |connection| {
                sqlx::query_as(concat!(
                    "INSERT INTO tasks (title, description) VALUES ($1, $2) RETURNING ",
                    columns!()
                ))
                .bind(&task.title)
                .bind(&task.description)
                .fetch_one(connection)
                .await
            })
            .await?;
        Ok(row.into())
    }

    pub async fn find(&self, id: i64) -> Result<Option<Task>, QueryError> {
        let row: Option<TaskRow> = self
            .run("find", async |connection| {
                sqlx::query_as(concat!("SELECT ", columns!(), " FROM tasks WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(connection)
                    .await
            })
            .await?;
        Ok(row.map(Task::from))
    }

    pub async fn replace(&self, id: i64, task: &ValidTask) -> Result<Option<Task>, QueryError> {
        let row: Option<TaskRow> = self
            .run("replace", async |connection| {
                    sqlx::query_as(concat!(
                        "UPDATE tasks SET title = $2, description = $3, updated_at = now() WHERE id = $1 RETURNING ",
                        columns!()
                    ))
                    .bind(id)
                    .bind(&task.title)
                    .bind(&task.description)
                    .fetch_optional(connection)
                        .await
                })
            .await?;
        Ok(row.map(Task::from))
    }

    /// Marks the task completed. Completing it again changes nothing, not even `updated_at`.
    pub async fn complete(&self, id: i64) -> Result<Option<Task>, QueryError> {
        let row: Option<TaskRow> = self
            .run("complete", async |connection| {
                sqlx::query_as(concat!(
                    "UPDATE tasks SET completed = TRUE, ",
                    "updated_at = CASE WHEN completed THEN updated_at ELSE now() END ",
                    "WHERE id = $1 RETURNING ",
                    columns!()
                ))
                .bind(id)
                .fetch_optional(connection)
                .await
            })
            .await?;
        Ok(row.map(Task::from))
    }

    /// Whether a task was deleted.
    pub async fn delete(&self, id: i64) -> Result<bool, QueryError> {
        let result = self
            .run("delete", async |connection| {
                sqlx::query("DELETE FROM tasks WHERE id = $1")
                    .bind(id)
                    .execute(connection)
                    .await
            })
            .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Checks that a query runs, for `/ready`.
    pub async fn ping(&self) -> Result<(), QueryError> {
        postgres::ping(&self.pool).await
    }

    /// Runs one query on a connection from the pool, timed as `name`; a failure comes back
    /// with what the database did.
    async fn run<T>(
        &self,
        name: &'static str,
        query: impl AsyncFnOnce(&mut PgConnection) -> sqlx::Result<T>,
    ) -> Result<T, QueryError> {
        postgres::run(&self.pool, name, query).await
    }
}
