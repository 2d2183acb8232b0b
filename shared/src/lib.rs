//! What the three services have in common, so that none of them repeats it. By concern:
//!
//! - [`http`]: the server (binding, connection limits, graceful shutdown) and the middleware
//!   every route runs inside, the router shape of the JSON services, and the extractors;
//! - [`telemetry`]: the log lines (text or JSON, written in batches), request ids, the access
//!   line, and the failures a response carries to it;
//! - [`health`]: `/health` and `/ready`, the `healthcheck` self-probe, and the start-up phases
//!   they report;
//! - and, on their own: the services' ports from the lab's [`catalogue`], [`config`] from the
//!   environment, the JSON [`error`] type, the JSON contracts between the services ([`api`])
//!   and their OpenAPI parts ([`openapi`]), [`retry`] at start-up, [`shutdown`] on signals,
//!   and the [`startup`] lines of every `main`.

pub mod api;
pub mod catalogue;
pub mod config;
pub mod error;
pub mod health;
pub mod http;
pub mod openapi;
pub mod retry;
pub mod shutdown;
pub mod startup;
pub mod telemetry;

// The static (musl) binaries would use musl's allocator, which serialises threads under load:
// the README's benchmark measures both. A library may set the allocator of the binaries that
// link it; the services do, through their default `mimalloc` feature.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
