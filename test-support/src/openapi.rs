//! Reading a service's served OpenAPI document, to test it against the service itself: every
//! documented operation is routed, and each documented constraint refuses exactly what the
//! service refuses.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::Path,
};

use axum::http::{Method, StatusCode, header};
use regex::Regex;
use serde_json::{Value, json};

use crate::http::TestRouter;

/// The document a service serves at `GET /openapi.json`.
#[derive(Debug)]
pub struct Document(Value);

impl Document {
    /// Fetches the document; panics unless it is served as an OpenAPI 3.1 JSON document titled
    /// after `service` at `version`.
    pub async fn fetch(app: &TestRouter, service: &str, version: &str) -> Self {
        let reply = app.get("/openapi.json").await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        assert_eq!(
            reply.header(header::CONTENT_TYPE.as_str()),
            "application/json"
        );
        let document = reply.body;
        assert!(
            document["openapi"]
                .as_str()
                .is_some_and(|v| v.starts_with("3.1.")),
            "not OpenAPI 3.1: {}",
            document["openapi"]
        );
        assert_eq!(document["info"]["title"], service);
        assert_eq!(document["info"]["version"], version);
        Self(document)
    }

    /// Each documented path with its methods, in upper case.
    pub fn operations(&self) -> BTreeMap<String, BTreeSet<String>> {
        self.paths()
            .map(|(path, item)| {
                let methods = item.as_object().map_or_else(BTreeSet::new, |item| {
                    item.keys().map(|method| method.to_uppercase()).collect()
                });
                (path.clone(), methods)
            })
            .collect()
    }

    /// Panics unless the documented paths and methods are exactly the service's own, `own`, and
    /// the ones every service shares.
    pub fn assert_operations(&self, own: &[(&str, &[&str])]) {
        let shared: [(&str, &[&str]); 4] = [
            ("/", &["GET"]),
            ("/health", &["GET"]),
            ("/openapi.json", &["GET"]),
            ("/ready", &["GET"]),
        ];
        let expected: BTreeMap<String, BTreeSet<String>> = shared
            .iter()
            .chain(own)
            .map(|(path, methods)| {
                let methods = methods.iter().map(|&method| method.to_owned()).collect();
                ((*path).to_owned(), methods)
            })
            .collect();
        assert_eq!(self.operations(), expected);
    }

    /// Panics unless each of these operations documents exactly these statuses.
    pub fn assert_statuses(&self, expected: &[(&str, &str, &[u16])]) {
        for (method, path, statuses) in expected {
            let statuses: BTreeSet<u16> = statuses.iter().copied().collect();
            assert_eq!(self.statuses(method, path), statuses, "{method} {path}");
        }
    }

    /// The statuses one operation documents.
    pub fn statuses(&self, method: &str, path: &str) -> BTreeSet<u16> {
        self.operation(method, path)["responses"]
            .as_object()
            .unwrap_or_else(|| panic!("{method} {path} documents no response"))
            .keys()
            .map(|status| status.parse().expect("statuses are numbers"))
            .collect()
    }

    /// The schema of a parameter of one operation.
    pub fn parameter(&self, method: &str, path: &str, name: &str) -> &Value {
        self.operation(method, path)["parameters"]
            .as_array()
            .and_then(|parameters| parameters.iter().find(|p| p["name"] == name))
            .map_or_else(
                || panic!("{method} {path} documents no parameter {name}"),
                |parameter| &parameter["schema"],
            )
    }

    /// A schema of `components.schemas`.
    pub fn schema(&self, name: &str) -> &Value {
        let schema = &self.0["components"]["schemas"][name];
        assert!(schema.is_object(), "no schema {name} in the document");
        schema
    }

    fn paths(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.0["paths"]
            .as_object()
            .expect("the document has paths")
            .iter()
    }

    fn operation(&self, method: &str, path: &str) -> &Value {
        let operation = &self.0["paths"][path][method.to_lowercase()];
        assert!(operation.is_object(), "{method} {path} is not documented");
        operation
    }
}

/// Panics unless `served`, the document committed at `file` and compiled into the service, is
/// `generated`, the one the code describes now. With `UPDATE_OPENAPI=1` in the environment,
/// writes `generated` to `file` instead, for the next build to serve.
pub fn assert_committed_document_is_current(file: &Path, served: &str, generated: &str) {
    if std::env::var_os("UPDATE_OPENAPI").is_some_and(|value| value == "1") {
        if served != generated {
            std::fs::write(file, generated).expect("the document can be written");
            eprintln!("{} rewritten: rebuild to serve it", file.display());
        }
        return;
    }
    if let Some((line, (served, generated))) = served
        .lines()
        .zip(generated.lines())
        .enumerate()
        .find(|(_, (served, generated))| served != generated)
        .or_else(|| {
            let lines = served.lines().count().min(generated.lines().count());
            (served.lines().count() != generated.lines().count())
                .then_some((lines, ("(end of file)", "(more lines)")))
        })
    {
        panic!(
            "{} is not the document the code describes (line {}: {served:?}, the code: \
             {generated:?}). Regenerate it with `UPDATE_OPENAPI=1 cargo test openapi`, review \
             the difference and commit it.",
            file.display(),
            line + 1,
        );
    }
}

/// Panics unless the service routes every documented operation: none may answer as an unknown
/// route or method would. `{name}` segments are filled from `samples`.
pub async fn assert_every_operation_is_routed(
    app: &TestRouter,
    document: &Document,
    samples: &[(&str, &str)],
) {
    for (path, methods) in document.operations() {
        let uri = samples.iter().fold(path.clone(), |uri, (name, sample)| {
            uri.replace(&format!("{{{name}}}"), sample)
        });
        for method in methods {
            let method = Method::from_bytes(method.as_bytes()).expect("an HTTP method");
            let reply = app.call_with_json(method.clone(), &uri, &json!({})).await;
            assert_ne!(
                reply.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {uri} is documented but not routed"
            );
            assert!(
                reply.status != StatusCode::NOT_FOUND || reply.error() != "no such route",
                "{method} {uri} is documented but not routed"
            );
        }
    }
}

/// Panics unless every error answer (400 and up) is documented with the error body, the one
/// every service sends. `/ready`'s 503 is a Readiness and `/health`'s a Health: bodies of their
/// own that carry the error body's `error` too, so a client reads every 503 alike.
pub fn assert_error_answers_have_the_error_body(document: &Document) {
    document.schema("ErrorBody");
    for own in ["Readiness", "Health"] {
        assert!(
            document.schema(own)["properties"]["error"].is_object(),
            "{own} has no `error`"
        );
    }
    for (path, methods) in document.operations() {
        for method in methods {
            for status in document.statuses(&method, &path) {
                if status < 400 {
                    continue;
                }
                let response = &document.operation(&method, &path)["responses"][status.to_string()];
                let body = &response["content"]["application/json"]["schema"]["$ref"];
                let expected = match path.as_str() {
                    "/ready" => "Readiness",
                    "/health" => "Health",
                    _ => "ErrorBody",
                };
                assert_eq!(
                    body.as_str(),
                    Some(format!("#/components/schemas/{expected}").as_str()),
                    "{method} {path} {status}"
                );
            }
        }
    }
}

/// The `pattern` of a string schema, compiled. The documents write patterns that mean the same
/// in JSON Schema's (ECMA-262), Python's and Rust's regex dialects, so Rust's reads them here.
pub fn pattern(schema: &Value) -> Regex {
    let pattern = schema["pattern"]
        .as_str()
        .unwrap_or_else(|| panic!("no pattern in {schema}"));
    Regex::new(pattern).unwrap_or_else(|error| panic!("{pattern}: {error}"))
}

/// An integer bound of a schema (`minimum`, `maximum`, `maxLength`, ...).
pub fn bound(schema: &Value, name: &str) -> i64 {
    schema[name]
        .as_i64()
        .unwrap_or_else(|| panic!("no integer {name} in {schema}"))
}

/// Strings drawn from `alphabet`, of lengths drawn from `lengths`: the characters and lengths
/// where a rule and its pattern could disagree. Deterministic, so that a failure reproduces.
pub fn strings(alphabet: &[char], lengths: &[usize], count: usize) -> Vec<String> {
    // xorshift64: enough to mix characters; the test needs spread, not statistical quality.
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut next = move |below: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        usize::try_from(state % below as u64).expect("below a usize")
    };
    (0..count)
        .map(|_| {
            let length = lengths[next(lengths.len())];
            (0..length)
                .map(|_| alphabet[next(alphabet.len())])
                .collect()
        })
        .collect()
}

/// `text` as one URI path segment: every byte but ASCII letters and digits percent-encoded.
pub fn path_segment(text: &str) -> String {
    text.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() {
                char::from(byte).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}
