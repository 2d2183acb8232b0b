//! Bad input: every rule answers a clear 4xx JSON error, and nothing bad is stored.

use axum::http::{Method, StatusCode};
use serde_json::json;

use shared::http::server::ServerConfig;

use crate::helpers::TestApp;

async fn assert_nothing_stored(app: &TestApp) {
    let listed = app.get("/tasks").await;
    assert_eq!(listed.body, json!([]), "a rejected request stored a task");
}

#[tokio::test]
async fn a_missing_empty_or_blank_title_is_rejected_with_422() {
    let app = TestApp::spawn().await;
    let refused = "Failed to deserialize the JSON body into the target type: ";
    for (body, problem) in [
        (json!({}), "missing field `title`"),
        (json!({"description": "no title"}), "missing field `title`"),
        (json!({"title": null}), "`title` must be a string"),
    ] {
        let reply = app.call_with_json(Method::POST, "/tasks", &body).await;
        assert_eq!(
            (reply.status, reply.error()),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("{refused}{problem}").as_str()
            ),
            "{body}"
        );
    }
    for title in ["", "   ", "\t\n"] {
        let reply = app
            .call_with_json(Method::POST, "/tasks", &json!({"title": title}))
            .await;
        assert_eq!(
            (reply.status, reply.error()),
            (StatusCode::UNPROCESSABLE_ENTITY, "title must not be empty")
        );
    }
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn a_title_may_have_200_characters_but_not_201() {
    let app = TestApp::spawn().await;
    let longest = "ß".repeat(200);
    let reply = app
        .call_with_json(Method::POST, "/tasks", &json!({"title": longest}))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(reply.body["title"], longest);

    let too_long = app
        .call_with_json(Method::POST, "/tasks", &json!({"title": "ß".repeat(201)}))
        .await;
    assert_eq!(too_long.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        too_long.error(),
        "title must be at most 200 characters, got 201"
    );
}

#[tokio::test]
async fn a_description_may_have_2000_characters_but_not_2001() {
    let app = TestApp::spawn().await;
    let longest = "ä".repeat(2000);
    let reply = app
        .call_with_json(
            Method::POST,
            "/tasks",
            &json!({"title": "t", "description": longest}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let too_long = app
        .call_with_json(
            Method::POST,
            "/tasks",
            &json!({"title": "t", "description": "ä".repeat(2001)}),
        )
        .await;
    assert_eq!(too_long.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        too_long.error(),
        "description must be at most 2000 characters, got 2001"
    );
}

#[tokio::test]
async fn fields_of_the_wrong_type_are_rejected_with_422() {
    let app = TestApp::spawn().await;
    let refused = "Failed to deserialize the JSON body into the target type: ";
    for (body, problem) in [
        (json!({"title": 5}), "`title` must be a string"),
        (
            json!({"title": "t", "description": 5}),
            "`description` must be a string or null",
        ),
        (
            json!(["title"]),
            "invalid type: sequence, expected a map at line 1 column 0",
        ),
        (
            json!("title"),
            r#"invalid type: string "title", expected a map at line 1 column 7"#,
        ),
    ] {
        let reply = app.call_with_json(Method::POST, "/tasks", &body).await;
        assert_eq!(
            (reply.status, reply.error()),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("{refused}{problem}").as_str()
            ),
            "{body}"
        );
    }
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn nul_characters_are_rejected_with_422_not_a_database_error() {
    let app = TestApp::spawn().await;
    let reply = app
        .call_with_json(Method::POST, "/tasks", &json!({"title": "a\u{0}b"}))
        .await;
    assert_eq!(
        (reply.status, reply.error()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "title must not contain NUL characters"
        )
    );
    let reply = app
        .call_with_json(
            Method::POST,
            "/tasks",
            &json!({"title": "t", "description": "\u{0}"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn malformed_json_is_rejected_with_400() {
    let app = TestApp::spawn().await;
    let refused = "Failed to parse the request body as JSON: ";
    for (body, problem) in [
        ("{", "EOF while parsing an object at line 1 column 1"),
        (
            r#"{"title": }"#,
            "title: expected value at line 1 column 11",
        ),
        ("", "EOF while parsing a value at line 1 column 0"),
        ("not json", "expected ident at line 1 column 2"),
        (
            r#"{"title": "a"} trailing"#,
            "trailing characters at line 1 column 16",
        ),
    ] {
        let reply = app
            .send_raw(Method::POST, "/tasks", "application/json", body)
            .await;
        assert_eq!(
            (reply.status, reply.error()),
            (
                StatusCode::BAD_REQUEST,
                format!("{refused}{problem}").as_str()
            ),
            "{body:?}"
        );
    }
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn a_body_that_is_not_json_is_rejected_with_415() {
    let app = TestApp::spawn().await;
    for content_type in ["text/plain", "application/x-www-form-urlencoded", ""] {
        let reply = app
            .send_raw(Method::POST, "/tasks", content_type, r#"{"title": "x"}"#)
            .await;
        assert_eq!(
            reply.status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type:?}"
        );
        assert_eq!(
            reply.error(),
            "Expected request with `Content-Type: application/json`"
        );
    }
    assert_nothing_stored(&app).await;
}

#[tokio::test]
async fn a_body_over_64_kib_is_rejected_with_413() {
    let app = TestApp::spawn().await;
    let padding = " ".repeat(ServerConfig::new(0).body_limit);
    let body = format!(r#"{{"title": "big"{padding}}}"#);
    let reply = app
        .send_raw(Method::POST, "/tasks", "application/json", body.clone())
        .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        reply.error(),
        "Failed to buffer the request body: length limit exceeded"
    );
    let id = app.create_task("small").await;
    let reply = app
        .send_raw(
            Method::PUT,
            &format!("/tasks/{id}"),
            "application/json",
            body,
        )
        .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        app.get(&format!("/tasks/{id}")).await.body["title"],
        "small"
    );
}

#[tokio::test]
async fn ids_that_are_not_positive_integers_are_rejected_with_400_on_every_route() {
    let app = TestApp::spawn().await;
    for (id, decoded) in [
        ("abc", "abc"),
        ("0", "0"),
        ("-1", "-1"),
        ("1.5", "1.5"),
        ("%20", " "),
        ("9223372036854775808", "9223372036854775808"),
        ("1e3", "1e3"),
    ] {
        for reply in [
            app.get(&format!("/tasks/{id}")).await,
            app.call_with_json(Method::PUT, &format!("/tasks/{id}"), &json!({"title": "x"}))
                .await,
            app.call(Method::PUT, &format!("/tasks/{id}/complete"))
                .await,
            app.call(Method::DELETE, &format!("/tasks/{id}")).await,
        ] {
            assert_eq!(
                (reply.status, reply.error()),
                (
                    StatusCode::BAD_REQUEST,
                    format!("`{decoded}` is not a task id: ids are positive integers").as_str()
                ),
                "id {id:?}"
            );
        }
    }
}

#[tokio::test]
async fn a_replacement_that_breaks_a_rule_is_rejected_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let id = app.create_task("original").await;
    let reply = app
        .call_with_json(Method::PUT, &format!("/tasks/{id}"), &json!({"title": " "}))
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let reply = app
        .send_raw(
            Method::PUT,
            &format!("/tasks/{id}"),
            "application/json",
            "{",
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        app.get(&format!("/tasks/{id}")).await.body["title"],
        "original"
    );
}

#[tokio::test]
async fn invalid_list_parameters_are_rejected_with_400() {
    let app = TestApp::spawn().await;
    for (query, message) in [
        ("completed=maybe", None),
        ("completed=", None),
        ("limit=abc", None),
        ("limit=0", Some("limit must be between 1 and 1000, got 0")),
        (
            "limit=1001",
            Some("limit must be between 1 and 1000, got 1001"),
        ),
        ("limit=-5", Some("limit must be between 1 and 1000, got -5")),
        ("offset=-1", Some("offset must not be negative, got -1")),
        ("offset=1.5", None),
        ("limit=99999999999999999999", None),
    ] {
        let reply = app.get(&format!("/tasks?{query}")).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{query}: {}",
            reply.body
        );
        if let Some(message) = message {
            assert_eq!(reply.error(), message);
        }
    }
}
