//! api-service's integration tests, all in one binary: one build, one throwaway PostgreSQL.

// In tests a panic is the failure report, helpers included.
#![allow(clippy::unwrap_used)]

mod binary;
mod helpers;
mod metrics;
mod openapi;
mod resilience;
mod tasks;
mod tasks_validation;
