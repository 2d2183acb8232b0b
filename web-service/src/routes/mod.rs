//! Every route of web-service, in one router, behind the headers every page gets and the
//! refusal of state-changing requests from other sites.

mod home;
mod status;

use axum::{
    Router,
    extract::State,
    http::{HeaderName, HeaderValue, StatusCode, header},
    middleware,
    response::Response,
    routing::{get, post},
};
use shared::{error, health};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::{
    assets,
    config::AssetsConfig,
    cross_origin,
    state::AppState,
    templates::{self, NotFoundPage},
};

/// All routes, without the shared middleware (see [`crate::app`]).
pub fn router(state: AppState, assets: &AssetsConfig) -> Router {
    let pages = Router::new()
        .route("/", get(home::show))
        .route("/tasks", post(home::add))
        .route("/tasks/{id}/complete", post(home::complete))
        .route("/tasks/{id}/delete", post(home::delete))
        .route("/status", get(status::page))
        .route("/status.json", get(status::json))
        .fallback(not_found)
        .with_state(state.clone());
    let router = pages
        .nest_service("/static", assets::router(assets))
        .merge(health::router(state.clone()))
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(middleware::from_fn_with_state(
            state,
            cross_origin::refuse_cross_origin,
        ));
    security_headers()
        .into_iter()
        .fold(router, |router, (name, value)| {
            router.layer(SetResponseHeaderLayer::if_not_present(
                name,
                HeaderValue::from_static(value),
            ))
        })
}

/// The pages load nothing from elsewhere and run no script; the policy says so, so an injected
/// `<script>` could not run even if escaping failed.
fn security_headers() -> [(HeaderName, &'static str); 4] {
    [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ]
}

async fn not_found(State(state): State<AppState>) -> Response {
    templates::render(
        StatusCode::NOT_FOUND,
        &NotFoundPage {
            build: &state.build,
        },
    )
}
