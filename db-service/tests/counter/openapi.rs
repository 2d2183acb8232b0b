//! `GET /openapi.json`: the document covers every route and status, and the key pattern accepts
//! exactly the keys the service accepts.

use axum::http::{Method, StatusCode};
use test_support::openapi::{self, Document, pattern};

use crate::helpers::TestApp;

async fn document(app: &TestApp) -> Document {
    Document::fetch(app, "db-service", env!("CARGO_PKG_VERSION")).await
}

#[test]
fn the_served_document_is_the_one_the_code_describes() {
    openapi::assert_committed_document_is_current(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json"),
        db_service::openapi::DOCUMENT,
        &db_service::openapi::generate().unwrap(),
    );
}

#[tokio::test]
async fn the_document_lists_every_route_with_every_status_it_can_answer_and_its_error_body() {
    let app = TestApp::spawn().await;
    let document = document(&app).await;

    document.assert_operations(&[
        ("/hits", &["GET"]),
        ("/hits/{key}", &["DELETE", "GET", "POST"]),
    ]);
    openapi::assert_every_operation_is_routed(&app, &document, &[("key", "documented")]).await;
    document.assert_statuses(&[
        ("GET", "/hits", &[200, 503]),
        ("POST", "/hits/{key}", &[200, 400, 503]),
        ("GET", "/hits/{key}", &[200, 400, 404, 503]),
        ("DELETE", "/hits/{key}", &[204, 400, 503]),
        ("GET", "/ready", &[200, 503]),
    ]);
    openapi::assert_error_answers_have_the_error_body(&document);
}

#[tokio::test]
async fn the_key_pattern_accepts_exactly_the_keys_the_service_accepts() {
    let app = TestApp::spawn().await;
    let document = document(&app).await;
    let key = pattern(document.parameter("POST", "/hits/{key}", "key"));
    for method in ["GET", "DELETE"] {
        let other = pattern(document.parameter(method, "/hits/{key}", "key"));
        assert_eq!(other.as_str(), key.as_str(), "{method} /hits/{{key}}");
    }
    let answered = pattern(&document.schema("Hits")["properties"]["key"]);
    assert_eq!(answered.as_str(), key.as_str(), "the Hits schema's key");

    // Keys of every allowed character, with lengths around the bound; then characters a URL
    // carries only encoded too. (An empty key is no path segment: `/hits/` is another route.)
    let allowed = ['a', 'Z', '7', '.', '_', ':', '-'];
    let others = [' ', '/', '%', '~', 'é', '\0'];
    let lengths = [1, 2, 63, 64, 65];
    let mut samples = openapi::strings(&allowed, &lengths, 200);
    samples.extend(openapi::strings(
        &[&allowed[..], &others[..]].concat(),
        &[1, 2, 3],
        200,
    ));
    let (mut accepted, mut refused) = (0, 0);
    for sample in samples {
        let uri = format!("/hits/{}", openapi::path_segment(&sample));
        let reply = app.call(Method::POST, &uri).await;
        if key.is_match(&sample) {
            assert_eq!(
                reply.status,
                StatusCode::OK,
                "key {sample:?}: {}",
                reply.text()
            );
            assert_eq!(reply.body["key"], sample.as_str());
            accepted += 1;
        } else {
            assert_eq!(
                reply.status,
                StatusCode::BAD_REQUEST,
                "key {sample:?}: {}",
                reply.text()
            );
            refused += 1;
        }
    }
    // The samples must exercise both sides of the rule, or the test proves nothing.
    assert!(
        accepted > 20 && refused > 20,
        "{accepted} accepted, {refused} refused"
    );
}
