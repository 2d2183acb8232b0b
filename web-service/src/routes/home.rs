//! `/` and its forms. Each form posts here, the handler calls api-service and answers with a
//! 303 redirect back to `/` (post/redirect/get): reloading the page never posts twice.

use std::{convert::Infallible, sync::Arc};

use axum::{
    extract::FromRequestParts,
    http::{StatusCode, request::Parts},
    response::{IntoResponse, Redirect, Response},
};
use shared::{
    api::TaskInput,
    http::extract::{Form, Path},
    telemetry::failure::Failure,
};

use crate::{
    build_info::BuildInfo,
    clients::BackendError,
    state::{AppState, Backends},
    templates::{self, HomePage, TaskForm, TaskView},
};

/// The db-service counter of home page views.
const VIEWS_KEY: &str = "web:home";

/// Whether showing the page counts as a view: a form re-shown with an error is not one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Visit {
    View,
    Redisplay,
}

/// What every rendering of `/` needs: the build for the footer, and the backends as this
/// request calls them.
pub struct Page {
    build: Arc<BuildInfo>,
    backends: Backends,
}

impl FromRequestParts<AppState> for Page {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        Ok(Self {
            build: Arc::clone(&state.build),
            backends: Backends::from_request_parts(parts, state).await?,
        })
    }
}

pub async fn show(page: Page) -> Response {
    home(
        &page,
        Visit::View,
        StatusCode::OK,
        TaskForm::default(),
        None,
        None,
    )
    .await
}

pub async fn add(page: Page, Form(form): Form<TaskForm>) -> Response {
    let input = TaskInput {
        title: form.title.clone(),
        description: Some(form.description.clone()).filter(|text| !text.is_empty()),
    };
    match page.backends.api.create(&input).await {
        Ok(_) => Redirect::to("/").into_response(),
        Err(error) => refused(&page, &error, "your task was not saved", form).await,
    }
}

pub async fn complete(page: Page, Path(id): Path<String>) -> Response {
    let Some(id) = parse_id(&id) else {
        return invalid_id(&page).await;
    };
    match page.backends.api.complete(id).await {
        Ok(_) => Redirect::to("/").into_response(),
        Err(error) => {
            refused(
                &page,
                &error,
                "the task was not completed",
                TaskForm::default(),
            )
            .await
        }
    }
}

pub async fn delete(page: Page, Path(id): Path<String>) -> Response {
    let Some(id) = parse_id(&id) else {
        return invalid_id(&page).await;
    };
    match page.backends.api.delete(id).await {
        // Deleting what is already gone reaches the state the user asked for.
        Ok(())
        | Err(BackendError::Rejected {
            status: StatusCode::NOT_FOUND,
            ..
        }) => Redirect::to("/").into_response(),
        Err(error) => {
            refused(
                &page,
                &error,
                "the task was not deleted",
                TaskForm::default(),
            )
            .await
        }
    }
}

/// Renders `/`, asking both backends in parallel; a backend that fails leaves its part of the
/// page marked unavailable and the page still answers, carrying why to the log, after the
/// failure of the form's own call (`earlier`) when there was one.
async fn home(
    page: &Page,
    visit: Visit,
    status: StatusCode,
    form: TaskForm,
    error: Option<String>,
    earlier: Option<Failure>,
) -> Response {
    let counter = &page.backends.counter;
    let views = async {
        match visit {
            Visit::View => counter.hit(VIEWS_KEY).await,
            Visit::Redisplay => counter.get(VIEWS_KEY).await,
        }
    };
    let (views, tasks) = tokio::join!(views, page.backends.api.list());
    let failures: Vec<Failure> = earlier
        .into_iter()
        .chain(views.as_ref().err().and_then(BackendError::failure))
        .chain(tasks.as_ref().err().and_then(BackendError::failure))
        .collect();
    let page = HomePage {
        build: &page.build,
        views: views.map_err(|error| error.for_the_page()),
        tasks: tasks
            .map(|tasks| tasks.into_iter().map(TaskView::from).collect())
            .map_err(|error| error.for_the_page()),
        form,
        error,
    };
    let mut response = templates::render(status, &page);
    Failure::attach_all(&mut response, failures);
    response
}

/// The page again, with what went wrong and the user's input: the API's own words and status
/// for a refusal, 503 for an outage.
async fn refused(
    page: &Page,
    error: &BackendError,
    what_happened: &str,
    form: TaskForm,
) -> Response {
    let (status, message) = match error {
        BackendError::Rejected { status, message } => (*status, capitalise(message)),
        BackendError::Unavailable { .. } => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("Tasks are unavailable right now, so {what_happened}. Try again in a moment."),
        ),
    };
    home(
        page,
        Visit::Redisplay,
        status,
        form,
        Some(message),
        error.failure(),
    )
    .await
}

fn capitalise(message: &str) -> String {
    let mut chars = message.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn parse_id(text: &str) -> Option<i64> {
    text.parse().ok().filter(|id| *id > 0)
}

async fn invalid_id(page: &Page) -> Response {
    let message = "That is not a task of this list.".to_owned();
    home(
        page,
        Visit::Redisplay,
        StatusCode::BAD_REQUEST,
        TaskForm::default(),
        Some(message),
        None,
    )
    .await
}
