//! Refuses a state-changing request that a browser marks as cross-origin, so that a page on
//! another site cannot make a learner's browser add or delete tasks here. The approach of Go
//! 1.25's `http.CrossOriginProtection`: no token, only what browsers already send.
//!
//! - GET, HEAD and OPTIONS change nothing and always pass.
//! - `Sec-Fetch-Site`, sent by every current browser, decides when present: `same-origin` (one
//!   of our pages) and `none` (typed, bookmarked) pass, anything else is refused. `same-site`
//!   is refused too: localhost:8030 and localhost:8031 are one site but two origins.
//! - Without it, an `Origin` must name the host the request was sent to.
//! - With neither, the client is not a browser (curl, a script) and cannot be tricked into
//!   sending anything, so the request passes.

use axum::{
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::Response,
};

use crate::{
    state::AppState,
    templates::{self, CrossOriginPage},
};

const SEC_FETCH_SITE: &str = "sec-fetch-site";

/// The middleware: passes the request on, or answers 403 with a page that explains why.
pub async fn refuse_cross_origin(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    match check(request.method(), request.headers()) {
        Ok(()) => next.run(request).await,
        Err(reason) => {
            tracing::info!(reason, "refused a cross-origin request");
            templates::render(
                StatusCode::FORBIDDEN,
                &CrossOriginPage {
                    build: &state.build,
                    reason,
                },
            )
        }
    }
}

/// Why the request must be refused, if it must.
fn check(method: &Method, headers: &HeaderMap) -> Result<(), &'static str> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    if let Some(site) = headers.get(SEC_FETCH_SITE) {
        return match site.as_bytes() {
            b"same-origin" | b"none" => Ok(()),
            b"same-site" => Err("your browser says it was sent by another origin of this site"),
            _ => Err("your browser says it was sent by another site"),
        };
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let host = headers.get(header::HOST).map(HeaderValue::as_bytes);
    match (origin_host(origin.as_bytes()), host) {
        (Some(origin), Some(host)) if origin.eq_ignore_ascii_case(host) => Ok(()),
        _ => Err("its Origin header names another site than this one"),
    }
}

/// `host[:port]` of an `Origin` such as `http://localhost:8031`; `None` for `null` and the like.
fn origin_host(origin: &[u8]) -> Option<&[u8]> {
    let scheme_end = origin.windows(3).position(|window| window == b"://")?;
    let host = &origin[scheme_end + 3..];
    (!host.is_empty() && !host.contains(&b'/')).then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| (name.parse().unwrap(), HeaderValue::from_static(value)))
            .collect()
    }

    #[test]
    fn origins_are_read_down_to_their_host_and_port() {
        assert_eq!(
            origin_host(b"http://localhost:8031"),
            Some(&b"localhost:8031"[..])
        );
        assert_eq!(
            origin_host(b"https://example.com"),
            Some(&b"example.com"[..])
        );
        for unusable in [&b"null"[..], b"http://", b"localhost:8031", b"http://a/b"] {
            assert_eq!(origin_host(unusable), None, "{unusable:?}");
        }
    }

    #[test]
    fn sec_fetch_site_decides_when_present_whatever_the_origin_says() {
        let post = &Method::POST;
        let with = |site| {
            headers(&[
                (SEC_FETCH_SITE, site),
                ("origin", "http://localhost:8031"),
                ("host", "localhost:8031"),
            ])
        };
        assert!(check(post, &with("same-origin")).is_ok());
        assert!(check(post, &with("none")).is_ok());
        assert!(check(post, &with("same-site")).is_err());
        assert!(check(post, &with("cross-site")).is_err());
        assert!(check(post, &with("something-new")).is_err());
    }

    #[test]
    fn without_sec_fetch_site_the_origin_must_name_the_host() {
        let post = &Method::POST;
        let from = |origin| headers(&[("origin", origin), ("host", "localhost:8031")]);
        assert!(check(post, &from("http://localhost:8031")).is_ok());
        assert!(check(post, &from("http://LOCALHOST:8031")).is_ok());
        assert!(check(post, &from("http://localhost:8030")).is_err());
        assert!(check(post, &from("https://evil.example")).is_err());
        assert!(check(post, &from("null")).is_err());
        assert!(check(post, &headers(&[("origin", "http://localhost:8031")])).is_err());
    }

    #[test]
    fn requests_without_either_header_and_reads_always_pass() {
        assert!(check(&Method::POST, &HeaderMap::new()).is_ok());
        let cross_site = headers(&[(SEC_FETCH_SITE, "cross-site")]);
        for read in [Method::GET, Method::HEAD, Method::OPTIONS] {
            assert!(check(&read, &cross_site).is_ok());
        }
        for change in [Method::PUT, Method::DELETE, Method::PATCH] {
            assert!(check(&change, &cross_site).is_err());
        }
    }
}
