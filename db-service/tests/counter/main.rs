//! db-service's integration tests, all in one binary: one build, one throwaway Redis.

// In tests a panic is the failure report, helpers included.
#![allow(clippy::unwrap_used)]

mod binary;
mod helpers;
mod hits;
mod metrics;
mod openapi;
mod resilience;
