//! The counter routes: every route and status, key rules, and atomic increments.

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn the_root_names_the_service_and_its_version() {
    let app = TestApp::spawn().await;
    let reply = app.get("/").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.body,
        json!({"service": "db-service", "version": env!("CARGO_PKG_VERSION")})
    );
}

#[tokio::test]
async fn health_and_readiness_answer_200_when_redis_is_up() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/health").await.body, json!({"status": "ok"}));
    let ready = app.get("/ready").await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(
        ready.body,
        json!({"ready": true, "dependencies": [{"name": "redis", "reachable": true}]})
    );
}

#[tokio::test]
async fn a_key_never_hit_is_not_found() {
    let app = TestApp::spawn().await;
    let reply = app.get("/hits/never").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(
        reply.error(),
        r#"no counter "never": it was never hit, or it was deleted"#
    );
}

#[tokio::test]
async fn each_hit_adds_one_and_returns_the_new_count() {
    let app = TestApp::spawn().await;
    for expected in 1..=3 {
        let reply = app.call(Method::POST, "/hits/web:home").await;
        assert_eq!(
            (reply.status, reply.body),
            (StatusCode::OK, json!({"key": "web:home", "hits": expected}))
        );
    }
    assert_eq!(app.get("/hits/web:home").await.body["hits"], 3);
    assert_eq!(
        app.get("/hits/other").await.status,
        StatusCode::NOT_FOUND,
        "counters are independent"
    );
}

#[tokio::test]
async fn all_counters_are_listed_sorted_by_key() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/hits").await.body, json!([]));
    for key in ["zeta", "alpha", "Mid", "alpha"] {
        app.call(Method::POST, &format!("/hits/{key}")).await;
    }
    let reply = app.get("/hits").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.body,
        json!([{"key": "Mid", "hits": 1}, {"key": "alpha", "hits": 2}, {"key": "zeta", "hits": 1}])
    );
}

/// Found by schemathesis's stateful phase (check `use_after_free`, ST301): a deleted counter
/// used to read as 0 hits, still there.
#[tokio::test]
async fn a_deleted_counter_is_not_found_and_its_next_hit_counts_one() {
    let app = TestApp::spawn().await;
    app.call(Method::POST, "/hits/gone").await;
    app.call(Method::POST, "/hits/gone").await;
    app.call(Method::DELETE, "/hits/gone").await;
    assert_eq!(app.get("/hits/gone").await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.call(Method::POST, "/hits/gone").await.body["hits"], 1);
}

#[tokio::test]
async fn deleting_a_counter_answers_204_and_removes_it_from_the_list() {
    let app = TestApp::spawn().await;
    app.call(Method::POST, "/hits/gone").await;
    app.call(Method::POST, "/hits/kept").await;
    let reply = app.call(Method::DELETE, "/hits/gone").await;
    assert_eq!(
        (reply.status, reply.bytes.len()),
        (StatusCode::NO_CONTENT, 0)
    );
    assert_eq!(
        app.get("/hits").await.body,
        json!([{"key": "kept", "hits": 1}])
    );
    assert_eq!(
        app.call(Method::DELETE, "/hits/never-existed").await.status,
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn keys_of_1_to_64_allowed_characters_are_accepted() {
    let app = TestApp::spawn().await;
    let longest = "k".repeat(64);
    for key in ["x", "A-Z.a_z:0-9", longest.as_str()] {
        let reply = app.call(Method::POST, &format!("/hits/{key}")).await;
        assert_eq!(
            (reply.status, reply.body),
            (StatusCode::OK, json!({"key": key, "hits": 1}))
        );
    }
}

#[tokio::test]
async fn any_other_key_is_rejected_with_400_on_every_route() {
    let app = TestApp::spawn().await;
    let too_long = "k".repeat(65);
    for (key, decoded) in [
        (too_long.as_str(), too_long.as_str()),
        ("a%20b", "a b"),
        ("%C3%A9", "é"),
        ("a%2Fb", "a/b"),
        ("a*", "a*"),
        ("%7Bx%7D", "{x}"),
        ("a%00", "a\0"),
    ] {
        for method in [Method::GET, Method::POST, Method::DELETE] {
            let reply = app.call(method.clone(), &format!("/hits/{key}")).await;
            assert_eq!(
                (reply.status, reply.error()),
                (
                    StatusCode::BAD_REQUEST,
                    format!(
                        "{decoded:?} is not a counter key: use 1 to 64 characters of A-Z a-z 0-9 . _ : -"
                    )
                    .as_str()
                ),
                "{method} {key}"
            );
        }
    }
    assert_eq!(
        app.get("/hits").await.body,
        json!([]),
        "a rejected key was stored"
    );
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_json_errors() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/hits/a/b").await.error(), "no such route");
    let reply = app.call(Method::PUT, "/hits/x").await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.error(), "this method is not allowed on this route");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_concurrent_hits_on_one_key_count_exactly_a_thousand() {
    let app = Arc::new(TestApp::spawn().await);
    app.call(Method::POST, "/hits/busy").await;
    let hits: Vec<_> = (0..1000)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move { app.call(Method::POST, "/hits/busy").await })
        })
        .collect();
    let mut counts = Vec::new();
    for hit in hits {
        let reply = hit.await.unwrap();
        assert_eq!(reply.status, StatusCode::OK);
        counts.push(reply.body["hits"].as_i64().unwrap());
    }
    counts.sort_unstable();
    // Every increment saw a distinct count: none was lost or applied twice.
    assert_eq!(counts, (2..=1001).collect::<Vec<i64>>());
    assert_eq!(app.get("/hits/busy").await.body["hits"], 1001);
}

#[tokio::test]
async fn counters_of_one_key_prefix_are_invisible_to_another() {
    let first = TestApp::spawn().await;
    let second = TestApp::spawn().await;
    first.call(Method::POST, "/hits/shared-name").await;
    assert_eq!(
        second.get("/hits/shared-name").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(second.get("/hits").await.body, json!([]));
}
