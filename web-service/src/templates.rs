//! The pages' templates (in `templates/`) and the values they show. askama escapes every
//! value for HTML, so a task titled `<script>` is shown as text.

use askama::Template;
use axum::{
    http::StatusCode,
    response::{Html, IntoResponse, Response},
};
use serde::Deserialize;
use shared::{api::Task, error::ApiError};
use time::{OffsetDateTime, macros::format_description};

#[cfg(doc)]
use crate::clients::BackendError;
use crate::{build_info::BuildInfo, clients::BackendStatus};

/// `/`: the greeting, the view count, the form and the tasks.
#[derive(Debug, Template)]
#[template(path = "home.html")]
pub struct HomePage<'a> {
    pub build: &'a BuildInfo,
    /// The count, or why there is none ([`BackendError::for_the_page`]).
    pub views: Result<i64, String>,
    /// The tasks, or why there are none.
    pub tasks: Result<Vec<TaskView>, String>,
    /// What the user typed, kept when the task was refused.
    pub form: TaskForm,
    pub error: Option<String>,
}

/// `/status`: the backends and the build.
#[derive(Debug, Template)]
#[template(path = "status.html")]
pub struct StatusPage<'a> {
    pub build: &'a BuildInfo,
    pub backends: &'a [BackendStatus],
}

#[derive(Debug, Template)]
#[template(path = "not_found.html")]
pub struct NotFoundPage<'a> {
    pub build: &'a BuildInfo,
}

/// The 403 of a state-changing request sent from another site ([`crate::cross_origin`]).
#[derive(Debug, Template)]
#[template(path = "cross_origin.html")]
pub struct CrossOriginPage<'a> {
    pub build: &'a BuildInfo,
    /// Completes "This request asked to change your tasks, but ...".
    pub reason: &'static str,
}

/// The add-task form as posted. Missing fields are empty, so any form reaches the API's rules.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TaskForm {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub description: String,
}

/// A task as the page shows it.
#[derive(Debug, Clone)]
pub struct TaskView {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub completed: bool,
    pub created: String,
}

impl From<Task> for TaskView {
    fn from(task: Task) -> Self {
        Self {
            id: task.id,
            title: task.title,
            description: task.description,
            completed: task.completed,
            created: format_time(task.created_at),
        }
    }
}

fn format_time(moment: OffsetDateTime) -> String {
    let format =
        format_description!("[day padding:none] [month repr:short] [year], [hour]:[minute] UTC");
    moment
        .to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_else(|_| "at an unknown time".to_owned())
}

/// The rendered page with `status`, or a logged 500 if the template fails.
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(error) => ApiError::internal(&error).into_response(),
    }
}
