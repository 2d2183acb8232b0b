//! The whole stack under test: api-service and db-service on sockets, web-service called
//! through its router.

use std::{ops::Deref, path::PathBuf, time::Duration};

use api_service::config::DatabaseConfig;
use axum::{
    Router,
    http::{Method, StatusCode, header},
};
use db_service::config::RedisConfig;
use shared::http::server::ServerConfig;
use test_support::{
    http::{Reply, TestRouter},
    postgres::TestDatabase,
    redis::TestRedis,
};
use web_service::{
    AppState,
    build_info::BuildInfo,
    clients::replicas::{Resolve, system_resolver},
    config::{AssetsConfig, BackendsConfig},
};

use crate::backends::Backend;

pub const BACKEND_TIMEOUT: Duration = Duration::from_millis(800);

pub struct Stack {
    web: TestRouter,
    pub api: Backend,
    pub counter: Backend,
    _database: TestDatabase,
    _redis: Option<TestRedis>,
}

impl Deref for Stack {
    type Target = TestRouter;

    fn deref(&self) -> &TestRouter {
        &self.web
    }
}

impl Stack {
    /// The stack on this test binary's PostgreSQL and Redis.
    pub async fn start() -> Self {
        let redis = TestRedis::create();
        let (url, prefix) = (redis.url().to_owned(), redis.prefix().to_owned());
        Self::start_on_redis(&url, &prefix, Some(redis)).await
    }

    /// The stack with db-service on the Redis at `url`, such as a server the test stops.
    pub async fn start_on_redis(url: &str, key_prefix: &str, redis: Option<TestRedis>) -> Self {
        let database = TestDatabase::create().await;
        let api = Backend::start(api_app(&database).await).await;
        let counter = Backend::start(counter_app(url, key_prefix).await).await;

        let web = web_app(&api.url(), &counter.url(), &assets(static_dir(), 3600));
        Self {
            web,
            api,
            counter,
            _database: database,
            _redis: redis,
        }
    }
}

/// api-service on `database`, migrated.
pub async fn api_app(database: &TestDatabase) -> Router {
    let state = api_service::AppState::new(api_service::postgres::pool(&DatabaseConfig {
        max_connections: 5,
        acquire_timeout: Duration::from_secs(1),
        ..DatabaseConfig::new(database.connect_options())
    }));
    state.prepare().await.unwrap();
    api_service::app(state, &ServerConfig::new(0))
}

/// db-service on the Redis at `url`, its keys under `key_prefix`, connected.
pub async fn counter_app(url: &str, key_prefix: &str) -> Router {
    let counters = db_service::Counters::new(&RedisConfig {
        key_prefix: key_prefix.to_owned(),
        ..RedisConfig::new(redis::Client::open(url).unwrap())
    })
    .unwrap();
    let state = db_service::AppState::new(counters);
    state.prepare().await;
    db_service::app(state, &ServerConfig::new(0))
}

/// db-service still starting: it has not reached its Redis, and turns every call away.
pub fn starting_counter_app() -> Router {
    let nothing_listens = "redis://127.0.0.1:1";
    let counters = db_service::Counters::new(&RedisConfig::new(
        redis::Client::open(nothing_listens).unwrap(),
    ))
    .unwrap();
    db_service::app(db_service::AppState::new(counters), &ServerConfig::new(0))
}

/// web-service over backends at the given URLs.
pub fn web_app(api_url: &str, counter_url: &str, assets: &AssetsConfig) -> TestRouter {
    web_app_resolving(api_url, counter_url, assets, system_resolver())
}

/// web-service over backends whose names `resolve` resolves.
pub fn web_app_resolving(
    api_url: &str,
    counter_url: &str,
    assets: &AssetsConfig,
    resolve: Resolve,
) -> TestRouter {
    let backends = BackendsConfig {
        api_url: api_url.to_owned(),
        counter_url: counter_url.to_owned(),
        timeout: BACKEND_TIMEOUT,
    };
    let build = BuildInfo {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        revision: "0123abc".to_owned(),
        variant: "test".to_owned(),
        built: "today".to_owned(),
    };
    TestRouter::new(web_service::app(
        AppState::resolving_with(&backends, build, resolve),
        assets,
        &ServerConfig::new(0),
    ))
}

pub fn static_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/static"))
}

pub fn assets(dir: PathBuf, max_age_seconds: u32) -> AssetsConfig {
    AssetsConfig {
        dir,
        max_age_seconds,
    }
}

/// Posts a form the way a browser does.
pub async fn post_form(web: &TestRouter, uri: &str, fields: &[(&str, &str)]) -> Reply {
    let body = fields
        .iter()
        .map(|(name, value)| format!("{}={}", url_encode(name), url_encode(value)))
        .collect::<Vec<_>>()
        .join("&");
    web.send_raw(Method::POST, uri, "application/x-www-form-urlencoded", body)
        .await
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(byte).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// The view count on a home page, or `None` when it shows the counter as unavailable.
pub fn views(page: &Reply) -> Option<i64> {
    let html = page.text();
    let start = html.find("viewed <strong>")? + "viewed <strong>".len();
    let end = start + html[start..].find("</strong>")?;
    Some(html[start..end].parse().unwrap())
}

/// Asserts a post/redirect/get answer: 303 back to `/`.
pub fn assert_redirected_home(reply: &Reply) {
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.text());
    assert_eq!(reply.headers[header::LOCATION], "/");
}
