//! What the three services have in common, so that none of them repeats it: configuration from
//! the environment, telemetry, request ids and the access log, the HTTP server bootstrap, health
//! routes, the `healthcheck` self-probe, the JSON error type and extractors, and the JSON
//! contracts between the services.

pub mod access_log;
pub mod api;
pub mod config;
pub mod deadline;
pub mod error;
pub mod extract;
pub mod health;
pub mod json_log;
pub mod log_writer;
pub mod middleware;
pub mod openapi;
pub mod probe;
pub mod request_id;
pub mod retry;
pub mod router;
pub mod server;
pub mod shutdown;
pub mod startup;
pub mod telemetry;
pub mod warm_up;
