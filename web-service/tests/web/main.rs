//! web-service's integration tests, all in one binary. The backends are the real api-service
//! and db-service, on loopback sockets, over the real PostgreSQL and Redis.

// In tests a panic is the failure report, helpers included.
#![allow(clippy::unwrap_used)]

mod assets;
mod backends;
mod binary;
mod cross_origin;
mod degraded;
mod helpers;
mod metrics;
mod pages;
mod replicas;
mod request_ids;
mod status;
