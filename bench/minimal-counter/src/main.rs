//! The smallest idiomatic axum + Redis hit counter: what db-service's `POST /hits/{key}` would
//! be without the lab's middleware, logging, key checks and error handling. bench/run.py
//! measures the two side by side. No logs, no timeouts, no request ids: not for production.

use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    routing::{get, post},
};
use redis::{AsyncCommands, aio::ConnectionManager};
use serde_json::{Value, json};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let port: u16 = std::env::var("PORT").map_or(8080, |port| port.parse().expect("PORT"));
    let client = redis::Client::open(url).expect("REDIS_URL");
    let redis = ConnectionManager::new(client).await.expect("Redis");
    let app = Router::new()
        .route("/hits/{key}", post(hit))
        .route("/health", get(|| async { "ok" }))
        .with_state(redis);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind");
    axum::serve(listener, app).await.expect("serve");
}

async fn hit(
    State(mut redis): State<ConnectionManager>,
    Path(key): Path<String>,
) -> Result<Json<Value>, StatusCode> {
    let hits: i64 = redis
        .hincr("hits", &key, 1)
        .await
        .map_err(|_| StatusCode::SERVICE_UNAVAILABLE)?;
    Ok(Json(json!({ "key": key, "hits": hits })))
}
