//! `GET /openapi.json`: the document covers every route and status, and each of its constraints
//! accepts exactly what the service accepts.

use axum::http::{Method, StatusCode};
use serde_json::json;
use test_support::openapi::{self, Document, bound, pattern};

use crate::helpers::TestApp;

async fn document(app: &TestApp) -> Document {
    Document::fetch(app, "api-service", env!("CARGO_PKG_VERSION")).await
}

#[test]
fn the_served_document_is_the_one_the_code_describes() {
    openapi::assert_committed_document_is_current(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json"),
        api_service::openapi::DOCUMENT,
        &api_service::openapi::generate().unwrap(),
    );
}

#[tokio::test]
async fn the_document_lists_every_route_with_every_status_it_can_answer_and_its_error_body() {
    let app = TestApp::spawn().await;
    let document = document(&app).await;

    document.assert_operations(&[
        ("/tasks", &["GET", "POST"]),
        ("/tasks/{id}", &["DELETE", "GET", "PUT"]),
        ("/tasks/{id}/complete", &["PUT"]),
    ]);
    openapi::assert_every_operation_is_routed(&app, &document, &[("id", "1")]).await;
    document.assert_statuses(&[
        ("GET", "/tasks", &[200, 400, 503]),
        ("POST", "/tasks", &[201, 400, 413, 415, 422, 503]),
        ("GET", "/tasks/{id}", &[200, 400, 404, 503]),
        ("PUT", "/tasks/{id}", &[200, 400, 404, 413, 415, 422, 503]),
        ("PUT", "/tasks/{id}/complete", &[200, 400, 404, 503]),
        ("DELETE", "/tasks/{id}", &[204, 400, 404, 503]),
        ("GET", "/ready", &[200, 503]),
    ]);
    openapi::assert_error_answers_have_the_error_body(&document);
}

#[tokio::test]
async fn the_title_pattern_accepts_exactly_the_titles_the_service_accepts() {
    let app = TestApp::spawn().await;
    let document = document(&app).await;
    let title = pattern(&document.schema("TaskInput")["properties"]["title"]);

    // Whitespace of several kinds (ASCII, NEL, ideographic), a character that looks like
    // whitespace but is not (zero-width space) and a multi-byte letter, with lengths around the
    // bounds so that trimming decides; then NUL too, which is refused anywhere.
    let alphabet = ['a', 'é', ' ', '\t', '\u{85}', '\u{3000}', '\u{200B}'];
    let lengths = [0, 1, 2, 3, 199, 200, 201, 202, 203];
    let mut samples = openapi::strings(&alphabet, &lengths, 300);
    samples.extend(openapi::strings(
        &[&alphabet[..], &['\0']].concat(),
        &[1, 2, 3, 200],
        100,
    ));
    let (mut accepted, mut refused) = (0, 0);
    for sample in samples {
        let reply = app
            .call_with_json(Method::POST, "/tasks", &json!({ "title": sample }))
            .await;
        let matches = title.is_match(&sample);
        let expected = if matches {
            StatusCode::CREATED
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        assert_eq!(reply.status, expected, "title {sample:?}: {}", reply.text());
        if matches {
            accepted += 1;
        } else {
            refused += 1;
        }
    }
    // The samples must exercise both sides of the rule, or the test proves nothing.
    assert!(
        accepted > 50 && refused > 50,
        "{accepted} accepted, {refused} refused"
    );
}

#[tokio::test]
async fn the_description_bounds_accept_exactly_the_descriptions_the_service_accepts() {
    let app = TestApp::spawn().await;
    let document = document(&app).await;
    let schema = &document.schema("TaskInput")["properties"]["description"];
    let (no_nul, max_length) = (pattern(schema), bound(schema, "maxLength"));
    let max = usize::try_from(max_length).unwrap();

    let lengths = [0, 1, max - 1, max, max + 1];
    let (mut accepted, mut refused) = (0, 0);
    let mut samples = openapi::strings(&['x', 'ü', ' '], &lengths, 30);
    samples.extend(openapi::strings(&['x', '\0'], &[1, 2, max], 10));
    for sample in samples {
        let valid = no_nul.is_match(&sample) && sample.chars().count() <= max;
        let reply = app
            .call_with_json(
                Method::POST,
                "/tasks",
                &json!({ "title": "t", "description": sample }),
            )
            .await;
        let expected = if valid {
            StatusCode::CREATED
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        assert_eq!(reply.status, expected, "{}", reply.text());
        if valid {
            accepted += 1;
        } else {
            refused += 1;
        }
    }
    assert!(
        accepted > 10 && refused > 10,
        "{accepted} accepted, {refused} refused"
    );
}

#[tokio::test]
async fn the_bounds_of_limit_offset_and_id_are_the_ones_the_service_enforces() {
    let app = TestApp::spawn().await;
    let document = document(&app).await;
    let id = app.create_task("bounds").await;

    for name in ["limit", "offset"] {
        let schema = document.parameter("GET", "/tasks", name);
        let minimum = bound(schema, "minimum");
        assert_eq!(
            app.get(&format!("/tasks?{name}={minimum}")).await.status,
            StatusCode::OK
        );
        let below = app.get(&format!("/tasks?{name}={}", minimum - 1)).await;
        assert_eq!(below.status, StatusCode::BAD_REQUEST, "{name}");
        if schema.get("maximum").is_some() {
            let maximum = bound(schema, "maximum");
            assert_eq!(
                app.get(&format!("/tasks?{name}={maximum}")).await.status,
                StatusCode::OK
            );
            let above = app.get(&format!("/tasks?{name}={}", maximum + 1)).await;
            assert_eq!(above.status, StatusCode::BAD_REQUEST, "{name}");
        }
    }
    assert!(
        document
            .parameter("GET", "/tasks", "limit")
            .get("maximum")
            .is_some(),
        "limit has no documented maximum"
    );

    let schema = document.parameter("GET", "/tasks/{id}", "id");
    let (minimum, maximum) = (bound(schema, "minimum"), bound(schema, "maximum"));
    assert_eq!(
        app.get(&format!("/tasks/{id}")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get(&format!("/tasks/{maximum}")).await.status,
        StatusCode::NOT_FOUND
    );
    let above = i128::from(maximum) + 1;
    for refused in [i128::from(minimum) - 1, above] {
        let reply = app.get(&format!("/tasks/{refused}")).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "id {refused}");
    }
}
