//! `/status`, `/status.json` and `/ready`.

use axum::http::StatusCode;
use serde_json::json;

use crate::helpers::Stack;

#[tokio::test]
async fn the_status_page_shows_both_backends_up_and_the_build() {
    let stack = Stack::start().await;
    let reply = stack.get("/status").await;
    assert_eq!(reply.status, StatusCode::OK);
    let page = reply.text();
    assert_eq!(
        page.matches(r#"<span class="state">up</span>"#).count(),
        2,
        "{page}"
    );
    assert!(
        page.contains("<th scope=\"row\">api-service</th>")
            && page.contains("<th scope=\"row\">db-service</th>")
    );
    assert!(page.contains(&stack.api.url()) && page.contains(&stack.counter.url()));
    assert!(page.contains("<code>0123abc</code>") && page.contains("<code>test</code>"));
}

#[tokio::test]
async fn status_json_gives_each_backend_with_its_round_trip() {
    let mut stack = Stack::start().await;
    let body = stack.get("/status.json").await.body;
    assert_eq!(
        body["build"],
        json!({"version": env!("CARGO_PKG_VERSION"), "revision": "0123abc", "variant": "test", "built": "today"})
    );
    let backends = body["backends"].as_array().unwrap();
    assert_eq!(backends.len(), 2);
    for (backend, name) in backends.iter().zip(["api-service", "db-service"]) {
        assert_eq!(backend["name"], name);
        assert_eq!(backend["ready"], true);
        assert_eq!(backend["detail"], "ready");
        assert!(backend["round_trip_ms"].as_f64().unwrap() > 0.0);
    }

    stack.counter.stop().await;
    let body = stack.get("/status.json").await.body;
    assert_eq!(body["backends"][0]["ready"], true);
    assert_eq!(body["backends"][1]["ready"], false);
    assert_eq!(
        body["backends"][1]["detail"],
        "connection refused or unreachable"
    );
    let page = stack.get("/status").await.text();
    assert!(page.contains(r#"<span class="state">down</span> <span class="detail">connection refused or unreachable</span>"#), "{page}");
}

#[tokio::test]
async fn readiness_is_200_with_both_backends_and_503_naming_the_one_down() {
    let mut stack = Stack::start().await;
    let ready = stack.get("/ready").await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(ready.body["ready"], true);
    stack.api.stop().await;
    let ready = stack.get("/ready").await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(ready.error(), "api-service is unavailable");
    assert_eq!(stack.get("/health").await.status, StatusCode::OK);
}
