//! Backends that are down or hang: the page degrades, it never fails.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use test_support::redis::RedisServer;

use crate::{
    backends::black_hole,
    helpers::{BACKEND_TIMEOUT, Stack, assets, post_form, static_dir, views, web_app},
};

const TASKS_UNAVAILABLE: &str = "Tasks are unavailable right now: api-service is not answering.";
const COUNTER_UNAVAILABLE: &str =
    "The view counter is unavailable right now: db-service is not answering.";

#[tokio::test]
async fn with_api_service_down_the_page_answers_200_with_a_notice() {
    let mut stack = Stack::start().await;
    stack.api.stop().await;
    let reply = stack.get("/").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.text().contains(TASKS_UNAVAILABLE));
    assert_eq!(views(&reply), Some(1), "the counter still works");
}

#[tokio::test]
async fn with_db_service_down_the_counter_shows_as_unavailable() {
    let mut stack = Stack::start().await;
    post_form(&stack, "/tasks", &[("title", "still listed")]).await;
    stack.counter.stop().await;
    let reply = stack.get("/").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.text().contains(COUNTER_UNAVAILABLE));
    assert_eq!(views(&reply), None);
    assert!(reply.text().contains("still listed"));
}

#[tokio::test]
async fn with_redis_down_the_page_says_that_db_service_answers_and_what_it_lacks() {
    let redis = RedisServer::start();
    let stack = Stack::start_on_redis(&redis.url(), "lacking:", None).await;
    redis.stop();
    let reply = stack.get("/").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(
        reply.text().contains(
            "The view counter is unavailable right now: db-service answers, but says: \
             redis is unavailable, try again shortly."
        ),
        "{}",
        reply.text()
    );
    assert!(
        !reply.text().contains(COUNTER_UNAVAILABLE),
        "not blamed on db-service"
    );
}

#[tokio::test]
async fn with_both_backends_down_the_page_still_answers_200() {
    let mut stack = Stack::start().await;
    stack.api.stop().await;
    stack.counter.stop().await;
    let reply = stack.get("/").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.text().contains(TASKS_UNAVAILABLE) && reply.text().contains(COUNTER_UNAVAILABLE));
}

#[tokio::test]
async fn adding_a_task_while_api_service_is_down_answers_503_and_keeps_the_input() {
    let mut stack = Stack::start().await;
    stack.api.stop().await;
    let reply = post_form(
        &stack,
        "/tasks",
        &[("title", "not lost"), ("description", "typed with care")],
    )
    .await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    let page = reply.text();
    assert!(
        page.contains("Tasks are unavailable right now, so your task was not saved."),
        "{page}"
    );
    assert!(page.contains(r#"value="not lost""#) && page.contains(">typed with care</textarea>"));
}

#[tokio::test]
async fn a_backend_that_never_answers_costs_a_page_only_the_timeout() {
    let hanging = black_hole().await;
    let web = web_app(&hanging, &hanging, &assets(static_dir(), 0));
    let started = Instant::now();
    let reply = web.get("/").await;
    let took = started.elapsed();
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.text().contains(TASKS_UNAVAILABLE) && reply.text().contains(COUNTER_UNAVAILABLE));
    // Both calls run in parallel: one timeout, plus a generous margin for a loaded machine.
    assert!(
        took < BACKEND_TIMEOUT + Duration::from_secs(3),
        "the page took {took:?}"
    );
}

#[tokio::test]
async fn the_counter_comes_back_when_db_service_does() {
    let mut stack = Stack::start().await;
    assert_eq!(views(&stack.get("/").await), Some(1));
    stack.counter.stop().await;
    assert_eq!(views(&stack.get("/").await), None);
    stack.counter.restart().await;
    assert_eq!(
        views(&stack.get("/").await),
        Some(2),
        "the count survives in Redis"
    );
}
