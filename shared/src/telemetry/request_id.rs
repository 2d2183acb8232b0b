//! `x-request-id`: one id per request, the same in every service's log lines for that request.
//!
//! An id a client or another service sent is kept when it is sane, so one page load carries one
//! id through web-service, api-service and db-service; otherwise a new UUID is made. The id is
//! sent back on the response, written on every log line written while the request is served
//! (`telemetry::access_log`), and web-service sends it on its calls to the backends.

use std::{
    hash::{BuildHasher, RandomState},
    sync::{
        LazyLock,
        atomic::{AtomicU64, Ordering},
    },
};

use axum::{
    extract::Request,
    http::{HeaderName, HeaderValue},
};
/// The id of the request being served, in its extensions.
pub use tower_http::request_id::RequestId;

/// The header, as most proxies, load balancers and tracing tools name it.
pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The longest id kept from a client; UUIDs have 36 characters.
pub const MAX_LENGTH: usize = 128;

/// The id of a request that arrived without a sane one: a random UUID (version 4), as
/// tower-http's `MakeRequestUuid` makes, but without its `getrandom` system call for each id,
/// a system call on the hot path (bench/profiles/db-service-before.svg shows it). The bits come
/// from std's `SipHash` over a counter, keyed by the OS's randomness once per process: ids
/// never repeat within a process, and no one without the keys can tell the next one.
pub fn random_uuid() -> HeaderValue {
    static KEYS: LazyLock<RandomState> = LazyLock::new(RandomState::new);
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let count = COUNT.fetch_add(1, Ordering::Relaxed);
    let bits =
        u128::from(KEYS.hash_one((count, 0_u8))) << 64 | u128::from(KEYS.hash_one((count, 1_u8)));
    let id = uuid::Builder::from_random_bytes(bits.to_be_bytes()).into_uuid();
    let mut text = uuid::Uuid::encode_buffer();
    HeaderValue::from_str(id.hyphenated().encode_lower(&mut text))
        .expect("a UUID is a valid header value")
}

/// Whether a received id is kept: 1 to [`MAX_LENGTH`] visible ASCII characters. Anything else
/// (control characters, spaces, non-ASCII, a megabyte) would end up in every log line.
pub fn is_sane(id: &HeaderValue) -> bool {
    let bytes = id.as_bytes();
    (1..=MAX_LENGTH).contains(&bytes.len()) && bytes.iter().all(u8::is_ascii_graphic)
}

/// The request's id: the one received when it is sane and alone, else a new one, which then
/// replaces whatever was received. Either way it is in the request's headers (which
/// web-service forwards) and extensions (as [`RequestId`]).
pub fn keep_or_make(request: &mut Request) -> HeaderValue {
    let headers = request.headers_mut();
    let mut received = headers.get_all(&HEADER).iter();
    let id = match (received.next(), received.next()) {
        (Some(id), None) if is_sane(id) => id.clone(),
        _ => {
            let id = random_uuid();
            headers.insert(HEADER, id.clone());
            id
        }
    };
    request.extensions_mut().insert(RequestId::new(id.clone()));
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_of_1_to_128_visible_ascii_characters_are_sane() {
        for id in [
            "a",
            "3f1c2a9e-5b7d-4c1e-9f0a-2b6d8e4c1a7f",
            "req:42/web_home.v1",
            &"x".repeat(128),
        ] {
            assert!(is_sane(&HeaderValue::from_str(id).unwrap()), "{id:?}");
        }
        for id in ["", "two words", "tab\there", &"x".repeat(129)] {
            assert!(!is_sane(&HeaderValue::from_str(id).unwrap()), "{id:?}");
        }
        assert!(!is_sane(
            &HeaderValue::from_bytes("ünï".as_bytes()).unwrap()
        ));
    }

    #[test]
    fn made_ids_are_version_4_uuids_that_do_not_repeat() {
        let ids: std::collections::HashSet<String> = (0..10_000)
            .map(|_| random_uuid().to_str().unwrap().to_owned())
            .collect();
        assert_eq!(ids.len(), 10_000);
        for id in &ids {
            let uuid = uuid::Uuid::parse_str(id).unwrap();
            assert_eq!(uuid.get_version(), Some(uuid::Version::Random), "{id}");
            assert_eq!(uuid.get_variant(), uuid::Variant::RFC4122, "{id}");
        }
    }

    #[test]
    fn a_sane_id_is_kept_and_an_insane_repeated_or_missing_one_replaced_everywhere() {
        let served = |ids: &[&str]| {
            let mut request = Request::new(axum::body::Body::empty());
            for id in ids {
                request
                    .headers_mut()
                    .append(&HEADER, HeaderValue::from_str(id).unwrap());
            }
            let id = keep_or_make(&mut request);
            let in_headers: Vec<_> = request.headers().get_all(&HEADER).iter().collect();
            assert_eq!(in_headers, [&id], "the request's one id header");
            let extension = request.extensions().get::<RequestId>().unwrap();
            assert_eq!(extension.header_value(), &id);
            id.to_str().unwrap().to_owned()
        };
        assert_eq!(served(&["kept-1"]), "kept-1");
        for ids in [&["has space"][..], &["one", "two"], &[]] {
            let id = served(ids);
            assert!(uuid::Uuid::parse_str(&id).is_ok(), "{ids:?} -> {id}");
        }
    }
}
