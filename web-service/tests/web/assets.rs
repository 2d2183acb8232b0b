//! `/static/...`: types, cache headers, precompressed variants, and nothing outside the folder.

use std::{fs, path::PathBuf};

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use test_support::http::TestRouter;

use crate::helpers::{Stack, assets, static_dir, web_app};

#[tokio::test]
async fn the_stylesheet_and_favicon_are_served_with_their_types_and_a_cache_header() {
    let stack = Stack::start().await;
    for (path, content_type) in [
        ("/static/style.css", "text/css"),
        ("/static/favicon.svg", "image/svg+xml"),
    ] {
        let reply = stack.get(path).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert_eq!(reply.header("content-type"), content_type);
        assert_eq!(reply.header("cache-control"), "public, max-age=3600");
        let original = fs::read(static_dir().join(path.trim_start_matches("/static/"))).unwrap();
        assert_eq!(reply.bytes, original);
    }
}

/// A folder holding `public/` (served) and a secret beside it, with fake precompressed files
/// whose contents tell which variant was sent.
fn asset_folder() -> (PathBuf, TestRouter) {
    let root = std::env::temp_dir().join(format!(
        "web-assets-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let public = root.join("public");
    fs::create_dir_all(&public).unwrap();
    fs::write(public.join("app.css"), "original").unwrap();
    fs::write(public.join("app.css.gz"), "gzip variant").unwrap();
    fs::write(public.join("app.css.br"), "brotli variant").unwrap();
    fs::write(root.join("secret.txt"), "do not serve").unwrap();
    let web = web_app(
        "http://127.0.0.1:9",
        "http://127.0.0.1:9",
        &assets(public, 0),
    );
    (root, web)
}

async fn get_with_encoding(web: &TestRouter, encoding: &str) -> test_support::http::Reply {
    let request = Request::builder()
        .uri("/static/app.css")
        .header(header::ACCEPT_ENCODING, encoding)
        .body(Body::empty())
        .unwrap();
    web.send(request).await
}

#[tokio::test]
async fn the_precompressed_variant_the_browser_accepts_is_sent() {
    let (root, web) = asset_folder();
    let brotli = get_with_encoding(&web, "gzip, deflate, br").await;
    assert_eq!(
        (brotli.text(), brotli.header("content-encoding")),
        ("brotli variant".to_owned(), "br")
    );
    assert_eq!(brotli.header("content-type"), "text/css");
    let gzip = get_with_encoding(&web, "gzip").await;
    assert_eq!(
        (gzip.text(), gzip.header("content-encoding")),
        ("gzip variant".to_owned(), "gzip")
    );
    let plain = get_with_encoding(&web, "identity").await;
    assert_eq!(plain.text(), "original");
    assert!(plain.headers.get("content-encoding").is_none());
    assert_eq!(
        plain.header("cache-control"),
        "no-cache",
        "max age 0 means revalidate"
    );
    fs::remove_dir_all(root).unwrap();
}

#[tokio::test]
async fn no_path_reaches_a_file_outside_the_asset_folder() {
    let (root, web) = asset_folder();
    for path in [
        "/static/../secret.txt",
        "/static/%2e%2e/secret.txt",
        "/static/..%2fsecret.txt",
        "/static/..%5csecret.txt",
        "/static//etc/passwd",
        "/static/%2fetc%2fpasswd",
        "/static/public/../../secret.txt",
        "/static/app.css/../../secret.txt",
    ] {
        let reply = web.get(path).await;
        assert!(
            reply.status.is_client_error(),
            "{path} answered {}",
            reply.status
        );
        assert!(
            !reply.text().contains("do not serve") && !reply.text().contains("root:"),
            "{path} leaked a file"
        );
    }
    fs::remove_dir_all(root).unwrap();
}
