//! `GET /health` (liveness: the process answers, no dependency is checked) and `GET /ready`
//! (readiness: each dependency answers), the same for every service.
//!
//! Liveness must not depend on the database: a restart does not bring PostgreSQL back, so an
//! orchestrator that restarts on a failed liveness check would only add restarts to an outage.

use std::future::Future;

use axum::{
    Json, Router,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
};
use serde::Serialize;

use crate::api::{DependencyStatus, Readiness};

/// A service's dependencies, as `/ready` checks them.
pub trait Dependencies: Clone + Send + Sync + 'static {
    /// Checks every dependency once. Each check must give up on its own within a few seconds.
    fn check(&self) -> impl Future<Output = Vec<DependencyStatus>> + Send;
}

/// The `/health` and `/ready` routes, with `dependencies` checked by `/ready`.
pub fn router<D: Dependencies>(dependencies: D) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready::<D>))
        .with_state(dependencies)
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
}

async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

async fn ready<D: Dependencies>(State(dependencies): State<D>) -> Response {
    let readiness = readiness(dependencies.check().await);
    let status = if readiness.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(readiness)).into_response()
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
