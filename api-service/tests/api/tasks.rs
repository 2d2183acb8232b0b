//! The task routes on valid input: every route and status code.

use std::collections::HashSet;

use axum::http::{Method, StatusCode, header};
use serde_json::json;
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use crate::helpers::TestApp;

#[tokio::test]
async fn the_root_names_the_service_and_its_version() {
    let app = TestApp::spawn().await;
    let reply = app.get("/").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.body,
        json!({"service": "api-service", "version": env!("CARGO_PKG_VERSION")})
    );
}

#[tokio::test]
async fn health_and_readiness_answer_200_when_the_database_is_up() {
    let app = TestApp::spawn().await;
    let health = app.get("/health").await;
    assert_eq!(
        (health.status, health.body),
        (StatusCode::OK, json!({"status": "ok"}))
    );
    let ready = app.get("/ready").await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(
        ready.body,
        json!({"ready": true, "dependencies": [{"name": "postgres", "reachable": true}]})
    );
}

#[tokio::test]
async fn a_fresh_database_lists_no_tasks() {
    let app = TestApp::spawn().await;
    let reply = app.get("/tasks").await;
    assert_eq!((reply.status, reply.body), (StatusCode::OK, json!([])));
}

#[tokio::test]
async fn creating_a_task_answers_201_with_the_task_and_its_location() {
    let app = TestApp::spawn().await;
    let reply = app
        .call_with_json(
            Method::POST,
            "/tasks",
            &json!({"title": "Write the Dockerfile", "description": "multi-stage"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let id = reply.body["id"].as_i64().unwrap();
    assert!(id > 0);
    assert_eq!(
        reply.headers[header::LOCATION],
        format!("/tasks/{id}").as_str()
    );
    assert_eq!(reply.body["title"], "Write the Dockerfile");
    assert_eq!(reply.body["description"], "multi-stage");
    assert_eq!(reply.body["completed"], false);
    assert_eq!(reply.body["created_at"], reply.body["updated_at"]);

    let location = reply.headers[header::LOCATION].to_str().unwrap();
    let fetched = app.get(location).await;
    assert_eq!((fetched.status, fetched.body), (StatusCode::OK, reply.body));
}

#[tokio::test]
async fn timestamps_are_rfc_3339_and_recent() {
    let app = TestApp::spawn().await;
    let id = app.create_task("timestamps").await;
    let task = app.get(&format!("/tasks/{id}")).await.body;
    for field in ["created_at", "updated_at"] {
        let text = task[field].as_str().unwrap();
        let parsed = OffsetDateTime::parse(text, &Rfc3339)
            .unwrap_or_else(|error| panic!("{field}={text}: {error}"));
        assert!(
            (OffsetDateTime::now_utc() - parsed).whole_minutes().abs() < 5,
            "{field}={text}"
        );
    }
}

#[tokio::test]
async fn a_task_without_a_description_gets_an_empty_one_and_titles_are_trimmed() {
    let app = TestApp::spawn().await;
    let reply = app
        .call_with_json(Method::POST, "/tasks", &json!({"title": "  padded \t"}))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(reply.body["title"], "padded");
    assert_eq!(reply.body["description"], "");
    let explicit_null = app
        .call_with_json(
            Method::POST,
            "/tasks",
            &json!({"title": "x", "description": null}),
        )
        .await;
    assert_eq!(explicit_null.body["description"], "");
}

#[tokio::test]
async fn unicode_titles_and_descriptions_round_trip_exactly() {
    let app = TestApp::spawn().await;
    let title = "Ünïcødé ✓ 日本語 🦀 e\u{301} \u{200b}zero-width";
    let description = "line one\nline two\ttabbed — «quoted» 𝔘𝔫𝔦𝔠𝔬𝔡𝔢";
    let created = app
        .call_with_json(
            Method::POST,
            "/tasks",
            &json!({"title": title, "description": description}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let fetched = app.get(&format!("/tasks/{}", created.body["id"])).await;
    assert_eq!(fetched.body["title"], title);
    assert_eq!(fetched.body["description"], description);
}

#[tokio::test]
async fn tasks_are_listed_in_id_order_and_filtered_by_completion() {
    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    for title in ["one", "two", "three", "four"] {
        ids.push(app.create_task(title).await);
    }
    for id in [ids[1], ids[3]] {
        assert_eq!(
            app.call(Method::PUT, &format!("/tasks/{id}/complete"))
                .await
                .status,
            StatusCode::OK
        );
    }
    let listed_ids = |reply: &test_support::http::Reply| -> Vec<i64> {
        reply
            .body
            .as_array()
            .unwrap()
            .iter()
            .map(|task| task["id"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(listed_ids(&app.get("/tasks").await), ids);
    assert_eq!(
        listed_ids(&app.get("/tasks?completed=true").await),
        vec![ids[1], ids[3]]
    );
    assert_eq!(
        listed_ids(&app.get("/tasks?completed=false").await),
        vec![ids[0], ids[2]]
    );
    assert_eq!(listed_ids(&app.get("/tasks?limit=2").await), ids[..2]);
    assert_eq!(
        listed_ids(&app.get("/tasks?limit=2&offset=1").await),
        ids[1..3]
    );
    assert_eq!(
        listed_ids(&app.get("/tasks?offset=4").await),
        Vec::<i64>::new()
    );
    assert_eq!(
        listed_ids(&app.get("/tasks?completed=false&limit=1&offset=1").await),
        vec![ids[2]]
    );
}

#[tokio::test]
async fn the_default_limit_is_100_and_1000_is_allowed() {
    let app = TestApp::spawn().await;
    sqlx::query("INSERT INTO tasks (title) SELECT 'bulk ' || n FROM generate_series(1, 1001) AS n")
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(app.get("/tasks").await.body.as_array().unwrap().len(), 100);
    assert_eq!(
        app.get("/tasks?limit=1000")
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1000
    );
}

#[tokio::test]
async fn a_missing_task_is_404_on_every_route() {
    let app = TestApp::spawn().await;
    let body = json!({"title": "x"});
    for (reply, id) in [
        (app.get("/tasks/4242").await, 4242),
        (
            app.call_with_json(Method::PUT, "/tasks/4242", &body).await,
            4242,
        ),
        (app.call(Method::PUT, "/tasks/4242/complete").await, 4242),
        (app.call(Method::DELETE, "/tasks/4242").await, 4242),
        (app.get(&format!("/tasks/{}", i64::MAX)).await, i64::MAX),
    ] {
        assert_eq!(
            (reply.status, reply.error()),
            (
                StatusCode::NOT_FOUND,
                format!("task {id} not found").as_str()
            )
        );
    }
}

#[tokio::test]
async fn replacing_a_task_changes_title_and_description_and_updated_at() {
    let app = TestApp::spawn().await;
    let id = app.create_task("before").await;
    let before = app.get(&format!("/tasks/{id}")).await.body;
    let reply = app
        .call_with_json(
            Method::PUT,
            &format!("/tasks/{id}"),
            &json!({"title": " after ", "description": "new"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["id"], id);
    assert_eq!(reply.body["title"], "after");
    assert_eq!(reply.body["description"], "new");
    assert_eq!(reply.body["created_at"], before["created_at"]);
    assert_ne!(reply.body["updated_at"], before["updated_at"]);
    assert_eq!(app.get(&format!("/tasks/{id}")).await.body, reply.body);
}

#[tokio::test]
async fn completing_a_task_is_idempotent() {
    let app = TestApp::spawn().await;
    let id = app.create_task("finish me").await;
    let first = app
        .call(Method::PUT, &format!("/tasks/{id}/complete"))
        .await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body["completed"], true);
    let second = app
        .call(Method::PUT, &format!("/tasks/{id}/complete"))
        .await;
    assert_eq!((second.status, &second.body), (StatusCode::OK, &first.body));
}

#[tokio::test]
async fn deleting_a_task_answers_204_and_the_task_is_gone() {
    let app = TestApp::spawn().await;
    let id = app.create_task("delete me").await;
    let keep = app.create_task("keep me").await;
    let reply = app.call(Method::DELETE, &format!("/tasks/{id}")).await;
    assert_eq!(
        (reply.status, reply.body),
        (StatusCode::NO_CONTENT, serde_json::Value::Null)
    );
    assert_eq!(
        app.get(&format!("/tasks/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.call(Method::DELETE, &format!("/tasks/{id}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/tasks/{keep}")).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn many_parallel_creates_all_get_distinct_ids() {
    let app = std::sync::Arc::new(TestApp::spawn().await);
    let creates = (0..200).map(|n| {
        let app = app.clone();
        tokio::spawn(async move { app.create_task(&format!("parallel {n}")).await })
    });
    let mut ids = HashSet::new();
    for create in creates {
        ids.insert(create.await.unwrap());
    }
    assert_eq!(ids.len(), 200);
    let listed = app.get("/tasks?limit=1000").await.body;
    assert_eq!(listed.as_array().unwrap().len(), 200);
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_json_errors() {
    let app = TestApp::spawn().await;
    let missing = app.get("/nope").await;
    assert_eq!(
        (missing.status, missing.error()),
        (StatusCode::NOT_FOUND, "no such route")
    );
    let wrong_method = app.call(Method::PATCH, "/tasks").await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        wrong_method.error(),
        "this method is not allowed on this route"
    );
}
