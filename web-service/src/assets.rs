//! `/static/...`: the CSS and the favicon.
//!
//! The Docker build compresses every file with gzip and brotli next to the original
//! (`style.css.br`, `style.css.gz`); `ServeDir` sends the smallest one the browser accepts and
//! the original otherwise, as with `cargo run`, where nothing is compressed. `ServeDir` also
//! refuses any path that would leave the folder (`..`, absolute paths, encoded slashes).

use axum::{
    Router,
    http::{HeaderValue, header},
};
use tower_http::{services::ServeDir, set_header::SetResponseHeaderLayer};

use crate::config::AssetsConfig;

pub fn router(config: &AssetsConfig) -> Router {
    let files = ServeDir::new(&config.dir)
        .precompressed_br()
        .precompressed_gzip()
        .append_index_html_on_directories(false);
    let cache_control = if config.max_age_seconds == 0 {
        HeaderValue::from_static("no-cache")
    } else {
        HeaderValue::try_from(format!("public, max-age={}", config.max_age_seconds))
            .expect("digits make a valid header value")
    };
    Router::new()
        .fallback_service(files)
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            cache_control,
        ))
}
