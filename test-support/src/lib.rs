//! What the services' integration tests share:
//!
//! - [`postgres`] and [`redis`]: real servers, never mocks (below);
//! - [`http`]: the router test harness, requests sent with `oneshot` and their replies;
//! - [`logs`]: the log lines a test's thread writes, captured as JSON;
//! - [`metrics`]: a service's `/metrics`, read sample by sample;
//! - [`openapi`]: assertions that hold a served OpenAPI document to the routes and rules;
//! - [`binary`] and [`warm_up`]: the service binaries started as processes, and what a service
//!   says while it waits for its database.
//!
//! When `DATABASE_URL` or `REDIS_URL` is set, tests use that server. Otherwise the first test of
//! a test binary starts a throwaway server from the binaries installed on the machine, on a free
//! loopback port in a temporary folder, shared by the tests of that binary and removed when the
//! binary exits. Each test gets its own database or key prefix, so tests run in parallel.
//! Tests that stop and restart a server get a dedicated one.
//!
//! A test that can get neither fails with a message that says how to provide one.

mod process;

pub mod binary;
pub mod http;
pub mod logs;
pub mod metrics;
pub mod openapi;
pub mod postgres;
pub mod redis;
pub mod warm_up;

pub use process::free_port;
