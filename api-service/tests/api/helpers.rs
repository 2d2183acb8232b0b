//! api-service under test, on a fresh database, called through its router without a socket.

use std::ops::Deref;

use api_service::{AppState, config::DatabaseConfig, postgres};
use axum::http::{Method, StatusCode};
use shared::http::server::ServerConfig;
use test_support::{http::TestRouter, postgres::TestDatabase};

pub struct TestApp {
    router: TestRouter,
    pub pool: sqlx::PgPool,
    _database: Option<TestDatabase>,
}

/// The requests of [`TestRouter`] (`get`, `call_with_json`, ...) work on a `TestApp` directly.
impl Deref for TestApp {
    type Target = TestRouter;

    fn deref(&self) -> &TestRouter {
        &self.router
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        let database = TestDatabase::create().await;
        let pool = postgres::pool(&DatabaseConfig {
            max_connections: 20,
            ..DatabaseConfig::new(database.connect_options())
        });
        let state = AppState::new(pool);
        state
            .prepare()
            .await
            .expect("migrations apply to a fresh database");
        Self::new(state, Some(database))
    }

    /// The app on a state the test made itself, such as one with a pool to a server it stops.
    pub fn on(state: AppState) -> Self {
        Self::new(state, None)
    }

    fn new(state: AppState, database: Option<TestDatabase>) -> Self {
        let pool = state.tasks.pool().clone();
        let router = api_service::app(state, &ServerConfig::new(0));
        Self {
            router: TestRouter::new(router),
            pool,
            _database: database,
        }
    }

    /// Creates a task and returns its id; panics unless the API answers 201.
    pub async fn create_task(&self, title: &str) -> i64 {
        let reply = self
            .call_with_json(
                Method::POST,
                "/tasks",
                &serde_json::json!({ "title": title }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        reply.body["id"].as_i64().unwrap()
    }
}
