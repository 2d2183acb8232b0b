//! db-service under test, on its own key prefix, called through its router without a socket.

use std::ops::Deref;

use db_service::{AppState, Counters, config::RedisConfig};
use shared::http::server::ServerConfig;
use test_support::{http::TestRouter, redis::TestRedis};

pub struct TestApp {
    router: TestRouter,
    _redis: TestRedis,
}

impl Deref for TestApp {
    type Target = TestRouter;

    fn deref(&self) -> &TestRouter {
        &self.router
    }
}

pub fn redis_config(url: &str, key_prefix: &str) -> RedisConfig {
    RedisConfig {
        key_prefix: key_prefix.to_owned(),
        ..RedisConfig::new(redis::Client::open(url).unwrap())
    }
}

/// The state of a service on `config`'s Redis, not started yet.
pub fn state_for(config: &RedisConfig) -> AppState {
    AppState::new(Counters::new(config).expect("valid Redis settings"))
}

/// A service on `config`'s Redis, started.
pub async fn app_for(config: &RedisConfig) -> TestRouter {
    let state = state_for(config);
    state.prepare().await;
    TestRouter::new(db_service::app(state, &ServerConfig::new(0)))
}

impl TestApp {
    pub async fn spawn() -> Self {
        let redis = TestRedis::create();
        let router = app_for(&redis_config(redis.url(), redis.prefix())).await;
        Self {
            router,
            _redis: redis,
        }
    }
}
