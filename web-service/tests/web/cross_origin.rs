//! Forms posted from another site are refused; from the lab's own pages, and from clients that
//! are not browsers, they are accepted.

use axum::{
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use shared::api::Task;
use test_support::http::Reply;

use crate::helpers::{Stack, assert_redirected_home, post_form};

const HOST: &str = "localhost:8031";

/// Adds a task titled `title` with the given browser headers, as a form post to `HOST`.
async fn add_task(stack: &Stack, title: &str, headers: &[(&str, &str)]) -> Reply {
    let mut request = Request::builder()
        .method(Method::POST)
        .uri("/tasks")
        .header(header::HOST, HOST)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    stack
        .send(request.body(Body::from(format!("title={title}"))).unwrap())
        .await
}

async fn task_listed(stack: &Stack, title: &str) -> bool {
    stack
        .get("/")
        .await
        .text()
        .contains(&format!(r#"<span class="task-title">{title}</span>"#))
}

fn assert_refused(reply: &Reply, reason: &str) {
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.text());
    assert_eq!(reply.header("content-type"), "text/html; charset=utf-8");
    let page = reply.text();
    assert!(page.contains("Refused: sent from another site"), "{page}");
    assert!(page.contains(reason), "{page}");
    // The refusal is a page like the others, with the same security headers.
    assert!(
        reply
            .header("content-security-policy")
            .contains("frame-ancestors 'none'")
    );
    assert_eq!(reply.header("x-frame-options"), "DENY");
}

#[tokio::test]
async fn a_form_posted_from_another_site_is_refused_with_a_page_that_says_why_and_changes_nothing()
{
    let stack = Stack::start().await;
    let reply = add_task(
        &stack,
        "planted",
        &[
            ("sec-fetch-site", "cross-site"),
            ("origin", "https://evil.example"),
        ],
    )
    .await;
    assert_refused(&reply, "your browser says it was sent by another site");
    assert!(!task_listed(&stack, "planted").await);
}

#[tokio::test]
async fn a_form_posted_from_another_port_of_the_same_host_is_refused() {
    let stack = Stack::start().await;
    let reply = add_task(
        &stack,
        "planted",
        &[
            ("sec-fetch-site", "same-site"),
            ("origin", "http://localhost:8030"),
        ],
    )
    .await;
    assert_refused(&reply, "another origin of this site");
    assert!(!task_listed(&stack, "planted").await);
}

#[tokio::test]
async fn a_delete_posted_from_another_site_leaves_the_task_in_place() {
    let stack = Stack::start().await;
    assert_redirected_home(&post_form(&stack, "/tasks", &[("title", "kept")]).await);
    let tasks: Vec<Task> = reqwest::get(format!("{}/tasks", stack.api.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = tasks[0].id;
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("/tasks/{id}/delete"))
        .header("sec-fetch-site", "cross-site")
        .body(Body::empty())
        .unwrap();
    assert_eq!(stack.send(request).await.status, StatusCode::FORBIDDEN);
    assert!(task_listed(&stack, "kept").await);
}

#[tokio::test]
async fn a_form_posted_from_the_lab_s_own_page_or_typed_by_the_user_is_accepted() {
    let stack = Stack::start().await;
    let from_page = add_task(
        &stack,
        "from-the-page",
        &[
            ("sec-fetch-site", "same-origin"),
            ("origin", "http://localhost:8031"),
        ],
    )
    .await;
    assert_redirected_home(&from_page);
    assert_redirected_home(&add_task(&stack, "typed", &[("sec-fetch-site", "none")]).await);
    assert!(task_listed(&stack, "from-the-page").await);
    assert!(task_listed(&stack, "typed").await);
}

#[tokio::test]
async fn without_sec_fetch_site_a_form_passes_only_when_its_origin_names_the_host() {
    let stack = Stack::start().await;
    let same = add_task(&stack, "same-host", &[("origin", "http://localhost:8031")]).await;
    assert_redirected_home(&same);

    let other = add_task(
        &stack,
        "other-host",
        &[("origin", "http://attacker.test:8031")],
    )
    .await;
    assert_refused(&other, "its Origin header names another site than this one");
    let opaque = add_task(&stack, "opaque", &[("origin", "null")]).await;
    assert_refused(
        &opaque,
        "its Origin header names another site than this one",
    );

    assert!(task_listed(&stack, "same-host").await);
    assert!(!task_listed(&stack, "other-host").await);
    assert!(!task_listed(&stack, "opaque").await);
}

#[tokio::test]
async fn a_form_posted_without_either_header_as_curl_does_is_accepted() {
    let stack = Stack::start().await;
    assert_redirected_home(&add_task(&stack, "scripted", &[]).await);
    assert!(task_listed(&stack, "scripted").await);
}

#[tokio::test]
async fn pages_are_read_from_any_site() {
    let stack = Stack::start().await;
    let request = Request::builder()
        .uri("/")
        .header("sec-fetch-site", "cross-site")
        .body(Body::empty())
        .unwrap();
    assert_eq!(stack.send(request).await.status, StatusCode::OK);
}
