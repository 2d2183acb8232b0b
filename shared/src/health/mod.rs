//! `GET /health` (liveness: the process answers, no dependency is checked) and `GET /ready`
//! (readiness: each dependency answers), the same for every service.
//!
//! Liveness must not depend on the database: a restart does not bring PostgreSQL back, so an
//! orchestrator that restarts on a failed liveness check would only add restarts to an outage.
//! While a service starts, both follow its [`WarmUp`] (the table there says how).

pub mod probe;
pub mod warm_up;

use std::{error::Error, future::Future};

use axum::{
    Extension, Json, Router,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
};
use serde::Serialize;
use tower_http::request_id::RequestId;
use utoipa::ToSchema;

use crate::{
    api::{DependencyStatus, Readiness},
    health::warm_up::{Phase, WarmUp},
    telemetry::failure::Failure,
};

/// A service's dependencies, as `/ready` checks them.
pub trait Dependencies: Clone + Send + Sync + 'static {
    /// Checks every dependency once. Each check must give up on its own within a few seconds.
    /// `request_id` is the `/ready` request's, for a service whose checks are HTTP calls that
    /// pass it on.
    fn check(&self, request_id: Option<&RequestId>) -> impl Future<Output = Vec<Checked>> + Send;

    /// The service's start-up, for one that listens before its dependency answers; `None`
    /// for one that has nothing to wait for.
    fn warm_up(&self) -> Option<&WarmUp> {
        None
    }
}

/// One dependency, checked: its status, which `/ready` answers, and why it failed, which the
/// `/ready` response carries to the log (the 503 says what is down, the log says why).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub status: DependencyStatus,
    pub failure: Option<Failure>,
}

/// One dependency checked, from the outcome of its check.
pub fn status_of<E: Error + 'static>(name: &str, check: &Result<(), E>) -> Checked {
    Checked {
        status: DependencyStatus {
            name: name.to_owned(),
            reachable: check.is_ok(),
        },
        failure: check
            .as_ref()
            .err()
            .map(|cause| Failure::not_ready(name, cause)),
    }
}

/// The `/health` and `/ready` routes, with `dependencies` checked by `/ready`.
pub fn router<D: Dependencies>(dependencies: D) -> Router {
    Router::new()
        .route("/health", get(health::<D>))
        .route("/ready", get(ready::<D>))
        .with_state(dependencies)
}

/// The body of `GET /health`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    status: HealthStatus,
    /// What a starting service waits for.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[a-z-]+$")]
    waiting_for: Option<&'static str>,
    /// Present while the service does not serve yet, saying why, so that a 503 also reads as
    /// an `ErrorBody`.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// `ok`: serving. `waiting`: its database does not answer yet, which no restart would fix.
/// `starting`: busy with its own start-up (connecting, migrations), not alive yet.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    Ok,
    Waiting,
    Starting,
}

/// Liveness: the process answers, and is not stuck in its own start-up. No dependency is
/// checked: waiting for a database that is down counts as alive.
#[utoipa::path(get, path = "/health", tag = "health", operation_id = "health",
    responses(
        (status = 200, description = "The process is serving, or waiting for its database", body = Health),
        (status = 503, description = "The process is busy starting (connecting, migrating)", body = Health),
    ))]
pub async fn health<D: Dependencies>(State(dependencies): State<D>) -> Response {
    let serving = Health {
        status: HealthStatus::Ok,
        waiting_for: None,
        error: None,
    };
    let Some(warm_up) = dependencies.warm_up() else {
        return (StatusCode::OK, Json(serving)).into_response();
    };
    let (code, status) = match warm_up.phase() {
        Phase::Done => return (StatusCode::OK, Json(serving)).into_response(),
        Phase::Waiting => (StatusCode::OK, HealthStatus::Waiting),
        Phase::Reaching | Phase::Preparing => {
            (StatusCode::SERVICE_UNAVAILABLE, HealthStatus::Starting)
        }
    };
    let health = Health {
        status,
        waiting_for: Some(warm_up.dependency()),
        error: warm_up.not_serving_because(),
    };
    (code, Json(health)).into_response()
}

/// Readiness: every dependency answers.
#[utoipa::path(get, path = "/ready", tag = "health", operation_id = "ready",
    responses(
        (status = 200, description = "Every dependency answered", body = Readiness),
        (status = 503, description = "A dependency is down: `error` names it", body = Readiness),
    ))]
pub async fn ready<D: Dependencies>(
    State(dependencies): State<D>,
    request_id: Option<Extension<RequestId>>,
) -> Response {
    let request_id = request_id.map(|Extension(id)| id);
    let (readiness, failures) = match dependencies.warm_up() {
        Some(warm_up) if !warm_up.is_done() => (starting(warm_up), Vec::new()),
        _ => {
            let (statuses, failures) = dependencies
                .check(request_id.as_ref())
                .await
                .into_iter()
                .map(|checked| (checked.status, checked.failure))
                .unzip::<_, _, Vec<_>, Vec<_>>();
            (readiness(statuses), failures)
        }
    };
    let status = if readiness.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let mut response = (status, Json(readiness)).into_response();
    Failure::attach_all(&mut response, failures.into_iter().flatten());
    response
}

fn readiness(dependencies: Vec<DependencyStatus>) -> Readiness {
    let down: Vec<&str> = dependencies
        .iter()
        .filter(|dependency| !dependency.reachable)
        .map(|dependency| dependency.name.as_str())
        .collect();
    let error = match down.as_slice() {
        [] => None,
        [one] => Some(format!("{one} is unavailable")),
        many => Some(format!("{} are unavailable", many.join(" and "))),
    };
    Readiness {
        ready: error.is_none(),
        error,
        dependencies,
    }
}

/// Not ready while starting, whatever a check would say: the schema may not be there yet.
fn starting(warm_up: &WarmUp) -> Readiness {
    Readiness {
        ready: false,
        error: warm_up.not_serving_because(),
        dependencies: vec![DependencyStatus {
            name: warm_up.dependency().to_owned(),
            reachable: warm_up.phase() == Phase::Preparing,
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(name: &str, reachable: bool) -> DependencyStatus {
        DependencyStatus {
            name: name.to_owned(),
            reachable,
        }
    }

    #[test]
    fn readiness_names_every_dependency_that_is_down() {
        assert_eq!(readiness(vec![status("redis", true)]).error, None);
        assert_eq!(
            readiness(vec![
                status("api-service", false),
                status("db-service", false)
            ])
            .error,
            Some("api-service and db-service are unavailable".to_owned())
        );
        assert!(!readiness(vec![status("a", true), status("b", false)]).ready);
    }
}
