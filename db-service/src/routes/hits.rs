//! `/hits`: count hits per key.

use axum::{Router, extract::State, http::StatusCode, routing::get};
use shared::{
    api::{ErrorBody, Hits},
    http::extract::{Json, Path},
};

use utoipa::IntoParams;

use crate::{error::Error, key::CounterKey, state::AppState};

const UNAVAILABLE: &str = "Redis is unavailable, or the request took longer than REQUEST_TIMEOUT";
const BAD_KEY: &str = "The key is not a counter key";

/// The `{key}` of the routes of one counter.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct Key {
    /// The counter's name: 1 to 64 characters of `A-Z a-z 0-9 . _ : -`.
    #[param(
        pattern = r"^[A-Za-z0-9._:-]{1,64}$",
        min_length = 1,
        max_length = 64,
        example = "web:home"
    )]
    #[expect(
        dead_code,
        reason = "read by utoipa's derive only: the handler parses the path itself"
    )]
    key: String,
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/hits", get(list))
        .route("/hits/{key}", get(show).post(hit).delete(remove))
}

/// Every counter, sorted by key.
#[utoipa::path(get, path = "/hits", tag = "hits", operation_id = "list_hits",
    responses(
        (status = 200, description = "Every counter, sorted by key", body = [Hits]),
        (status = 503, description = UNAVAILABLE, body = ErrorBody),
    ))]
pub async fn list(State(state): State<AppState>) -> Result<Json<Vec<Hits>>, Error> {
    let counters = state.counters.all().await?;
    Ok(Json(
        counters
            .into_iter()
            .map(|(key, hits)| Hits { key, hits })
            .collect(),
    ))
}

/// Counts one hit on the counter, creating it at 1.
#[utoipa::path(post, path = "/hits/{key}", tag = "hits", operation_id = "hit",
    params(Key),
    responses(
        (status = 200, description = "The counter after this hit", body = Hits,
            links(
                ("GetHits" = (operation_id = "get_hits", parameters(("key" = "$response.body#/key")))),
                ("DeleteHits" = (operation_id = "delete_hits", parameters(("key" = "$response.body#/key")))),
            )),
        (status = 400, description = BAD_KEY, body = ErrorBody),
        (status = 503, description = UNAVAILABLE, body = ErrorBody),
    ))]
pub async fn hit(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<Json<Hits>, Error> {
    let key = CounterKey::parse(key)?;
    let hits = state.counters.increment(&key).await?;
    Ok(Json(Hits {
        key: key.into_string(),
        hits,
    }))
}

/// One counter.
#[utoipa::path(get, path = "/hits/{key}", tag = "hits", operation_id = "get_hits",
    params(Key),
    responses(
        (status = 200, description = "The counter", body = Hits),
        (status = 400, description = BAD_KEY, body = ErrorBody),
        (status = 404, description = "No counter has this key: it was never hit, or it was deleted", body = ErrorBody),
        (status = 503, description = UNAVAILABLE, body = ErrorBody),
    ))]
pub async fn show(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<Json<Hits>, Error> {
    let key = CounterKey::parse(key)?;
    match state.counters.get(&key).await? {
        Some(hits) => Ok(Json(Hits {
            key: key.into_string(),
            hits,
        })),
        None => Err(Error::NoCounter(key.into_string())),
    }
}

/// Deletes the counter: it is not found until its next hit, which counts from 1 again.
#[utoipa::path(delete, path = "/hits/{key}", tag = "hits", operation_id = "delete_hits",
    params(Key),
    responses(
        (status = 204, description = "Deleted, or there was nothing to delete"),
        (status = 400, description = BAD_KEY, body = ErrorBody),
        (status = 503, description = UNAVAILABLE, body = ErrorBody),
    ))]
pub async fn remove(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<StatusCode, Error> {
    let key = CounterKey::parse(key)?;
    state.counters.delete(&key).await?;
    Ok(StatusCode::NO_CONTENT)
}
