//! Calling an axum `Router` in-process, without a socket, and reading JSON answers.

use axum::{
    Router,
    body::{Body, Bytes, to_bytes},
    http::{HeaderMap, Method, Request, StatusCode, header},
};
use serde_json::Value;
use tower::ServiceExt;

/// A response: status, headers, the raw body, and the body parsed as JSON when it is JSON.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub bytes: Bytes,
    /// `Value::Null` when the body is empty or not JSON.
    pub body: Value,
}

impl Reply {
    /// The `error` message of an error body; panics when the body is not one.
    pub fn error(&self) -> &str {
        self.body["error"]
            .as_str()
            .unwrap_or_else(|| panic!("{}: not an error body: {}", self.status, self.text()))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_else(|| panic!("no {name} header in {:?}", self.headers))
    }
}

/// An app under test, called through its router.
#[derive(Debug, Clone)]
pub struct TestRouter {
    router: Router,
}

impl TestRouter {
    pub fn new(router: Router) -> Self {
        Self { router }
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("an axum router never fails");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("the body can be read");
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            bytes,
            body,
        }
    }

    pub async fn call(&self, method: Method, uri: &str) -> Reply {
        self.send(
            request(method, uri)
                .body(Body::empty())
                .expect("a valid request"),
        )
        .await
    }

    pub async fn get(&self, uri: &str) -> Reply {
        self.call(Method::GET, uri).await
    }

    pub async fn call_with_json(&self, method: Method, uri: &str, body: &Value) -> Reply {
        self.send_raw(method, uri, "application/json", body.to_string())
            .await
    }

    pub async fn send_raw(
        &self,
        method: Method,
        uri: &str,
        content_type: &str,
        body: impl Into<Body>,
    ) -> Reply {
        let request = request(method, uri)
            .header(header::CONTENT_TYPE, content_type)
            .body(body.into())
            .expect("a valid request");
        self.send(request).await
    }
}

fn request(method: Method, uri: &str) -> axum::http::request::Builder {
    Request::builder().method(method).uri(uri)
}
