//! `/hits`: count hits per key.

use axum::{Router, extract::State, http::StatusCode, routing::get};
use shared::{
    api::Hits,
    extract::{Json, Path},
};

use crate::{error::Error, key::CounterKey, state::AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/hits", get(list))
        .route("/hits/{key}", get(show).post(hit).delete(remove))
}

async fn list(State(state): State<AppState>) -> Result<Json<Vec<Hits>>, Error> {
    let counters = state.counters.all().await?;
    Ok(Json(
        counters
            .into_iter()
            .map(|(key, hits)| Hits { key, hits })
            .collect(),
    ))
}

async fn hit(State(state): State<AppState>, Path(key): Path<String>) -> Result<Json<Hits>, Error> {
    let key = CounterKey::parse(key)?;
    let hits = state.counters.increment(&key).await?;
    Ok(Json(Hits {
        key: key.into_string(),
        hits,
    }))
}

async fn show(State(state): State<AppState>, Path(key): Path<String>) -> Result<Json<Hits>, Error> {
    let key = CounterKey::parse(key)?;
    let hits = state.counters.get(&key).await?;
    Ok(Json(Hits {
        key: key.into_string(),
        hits,
    }))
}

async fn remove(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<StatusCode, Error> {
    let key = CounterKey::parse(key)?;
    state.counters.delete(&key).await?;
    Ok(StatusCode::NO_CONTENT)
}
