//! The home page and its forms, with every backend up.

use axum::http::{Method, StatusCode, header};

use crate::helpers::{Stack, assert_redirected_home, post_form, views};

#[tokio::test]
async fn the_home_page_says_hello_and_counts_each_view() {
    let stack = Stack::start().await;
    let first = stack.get("/").await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.header("content-type"), "text/html; charset=utf-8");
    assert!(first.text().contains("<h1>Hello from Rust</h1>"));
    assert_eq!(views(&first), Some(1));
    assert!(first.text().contains("viewed <strong>1</strong> time."));
    assert_eq!(views(&stack.get("/").await), Some(2));
    assert!(
        stack
            .get("/")
            .await
            .text()
            .contains("viewed <strong>3</strong> times.")
    );
}

#[tokio::test]
async fn adding_a_task_through_the_form_redirects_home_and_lists_it() {
    let stack = Stack::start().await;
    assert!(stack.get("/").await.text().contains("No tasks yet."));
    let reply = post_form(
        &stack,
        "/tasks",
        &[
            ("title", "Learn multi-stage builds"),
            ("description", "chef, then cook"),
        ],
    )
    .await;
    assert_redirected_home(&reply);
    let page = stack.get("/").await.text();
    assert!(
        page.contains(r#"<span class="task-title">Learn multi-stage builds</span>"#),
        "{page}"
    );
    assert!(page.contains("chef, then cook"));
    assert!(!page.contains("No tasks yet."));
}

#[tokio::test]
async fn completing_and_deleting_through_the_forms_change_the_list() {
    let stack = Stack::start().await;
    post_form(&stack, "/tasks", &[("title", "first")]).await;
    post_form(&stack, "/tasks", &[("title", "second")]).await;
    let page = stack.get("/").await.text();
    let id = |title: &str| -> String {
        let marker = format!(r#"aria-label="Complete {title}""#);
        let before = &page[..page.find(&marker).unwrap()];
        let action = before.rfind("/tasks/").unwrap() + "/tasks/".len();
        before[action..].split('/').next().unwrap().to_owned()
    };
    let (first, second) = (id("first"), id("second"));

    assert_redirected_home(&post_form(&stack, &format!("/tasks/{first}/complete"), &[]).await);
    let page = stack.get("/").await.text();
    assert!(
        page.contains(&format!(r#"<li class="task done" id="task-{first}">"#)),
        "{page}"
    );
    assert!(page.contains(&format!(r#"<li class="task" id="task-{second}">"#)));

    assert_redirected_home(&post_form(&stack, &format!("/tasks/{first}/delete"), &[]).await);
    let page = stack.get("/").await.text();
    assert!(!page.contains(&format!("task-{first}")));
    assert!(page.contains(&format!("task-{second}")));
}

#[tokio::test]
async fn a_refused_task_is_shown_again_with_the_message_and_the_input_kept() {
    let stack = Stack::start().await;
    let before = views(&stack.get("/").await).unwrap();
    let reply = post_form(
        &stack,
        "/tasks",
        &[("title", "   "), ("description", "keep <me>")],
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = reply.text();
    assert!(
        page.contains(r#"<p class="alert" role="alert">Title must not be empty</p>"#),
        "{page}"
    );
    assert!(
        page.contains(">keep &#60;me&#62;</textarea>")
            || page.contains(">keep &lt;me&gt;</textarea>"),
        "{page}"
    );
    assert_eq!(
        views(&reply),
        Some(before),
        "showing an error is not a view"
    );

    let long = "x".repeat(201);
    let reply = post_form(&stack, "/tasks", &[("title", &long)]).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        reply
            .text()
            .contains("Title must be at most 200 characters, got 201")
    );
    assert!(reply.text().contains(&format!(r#"value="{long}""#)));
    assert!(
        stack.get("/").await.text().contains("No tasks yet."),
        "a refused task was stored"
    );
}

#[tokio::test]
async fn a_refused_task_before_any_view_shows_zero_views_not_an_unavailable_counter() {
    // db-service answers 404 for a counter never hit; for the page that is no view yet.
    let stack = Stack::start().await;
    let reply = post_form(&stack, "/tasks", &[("title", "")]).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(views(&reply), Some(0), "{}", reply.text());
}

#[tokio::test]
async fn titles_and_descriptions_are_shown_as_text_not_html() {
    let stack = Stack::start().await;
    let script = "<script>alert(1)</script>";
    post_form(
        &stack,
        "/tasks",
        &[
            ("title", script),
            ("description", r#""><img src=x onerror=alert(2)>"#),
        ],
    )
    .await;
    let page = stack.get("/").await.text();
    assert!(
        !page.contains(script),
        "the title reached the page unescaped"
    );
    assert!(
        !page.contains("<img src=x"),
        "the description reached the page unescaped"
    );
    assert!(
        page.contains("&#60;script&#62;alert(1)&#60;/script&#62;")
            || page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{page}"
    );
}

#[tokio::test]
async fn deleting_a_task_that_is_already_gone_just_goes_home() {
    let stack = Stack::start().await;
    assert_redirected_home(&post_form(&stack, "/tasks/424242/delete", &[]).await);
}

#[tokio::test]
async fn completing_a_task_that_does_not_exist_says_so_with_404() {
    let stack = Stack::start().await;
    let reply = post_form(&stack, "/tasks/424242/complete", &[]).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(
        reply
            .text()
            .contains(r#"role="alert">Task 424242 not found</p>"#),
        "{}",
        reply.text()
    );
}

#[tokio::test]
async fn an_id_that_is_not_a_task_id_is_refused_with_400() {
    let stack = Stack::start().await;
    for path in [
        "/tasks/abc/complete",
        "/tasks/0/delete",
        "/tasks/-3/complete",
    ] {
        let reply = post_form(&stack, path, &[]).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{path}");
        assert!(reply.text().contains("That is not a task of this list."));
    }
}

#[tokio::test]
async fn a_form_of_the_wrong_content_type_is_refused_with_415() {
    let stack = Stack::start().await;
    let reply = stack
        .send_raw(Method::POST, "/tasks", "text/plain", "title=x")
        .await;
    assert_eq!(
        (reply.status, reply.error()),
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Form requests must have `Content-Type: application/x-www-form-urlencoded`"
        )
    );
}

#[tokio::test]
async fn an_unknown_page_is_a_404_page() {
    let stack = Stack::start().await;
    let reply = stack.get("/nowhere").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(reply.text().contains("<h1>Page not found</h1>"));
}

#[tokio::test]
async fn pages_forbid_scripts_framing_and_sniffing() {
    let stack = Stack::start().await;
    let reply = stack.get("/").await;
    let policy = reply.header(header::CONTENT_SECURITY_POLICY.as_str());
    assert!(policy.starts_with("default-src 'none'"), "{policy}");
    assert!(!policy.contains("script-src"), "{policy}");
    assert_eq!(reply.header("x-content-type-options"), "nosniff");
    assert_eq!(reply.header("x-frame-options"), "DENY");
}
