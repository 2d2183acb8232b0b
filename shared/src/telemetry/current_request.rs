//! The request a thread is serving at this moment: what a JSON log line written meanwhile says
//! it belongs to (`request_id`, `method`, `path`).
//!
//! In JSON logs this stands in for the request's tracing span. A span renders its fields when
//! it is made, for every request, though most requests write no line but their access line
//! (which has the facts at hand): bench/instructions.py counted the span at about a tenth of
//! db-service's instructions per request. Here nothing is rendered until a line is written.
//! The access log layer sets the request around each poll of the request's future, so every
//! line written while the request is served carries it: a failure, a timeout, a panic, a
//! library's warning. (A task the handler spawns runs on its own, as it would outside a span
//! it was not given.) Text logs (dev) keep the span, whose fields their format prints.

use std::{cell::RefCell, fmt, sync::Arc, time::Instant};

use axum::http::{HeaderValue, Method, Uri};

use crate::telemetry::json_log::write_string;

/// What the lines of a request say of it, kept from its head.
#[derive(Debug)]
pub struct RequestFacts {
    pub method: Method,
    pub uri: Uri,
    pub id: HeaderValue,
    pub started: Instant,
}

impl RequestFacts {
    pub fn id(&self) -> &str {
        // Made or checked by `request_id::keep_or_make`: visible ASCII.
        self.id.to_str().unwrap_or_default()
    }

    /// `,"request_id":…,"method":…,"path":…`, as the span's fields would be written.
    pub fn write_fields(&self, writer: &mut impl fmt::Write) -> fmt::Result {
        writer.write_str(",\"request_id\":")?;
        write_string(writer, self.id())?;
        writer.write_str(",\"method\":")?;
        write_string(writer, self.method.as_str())?;
        writer.write_str(",\"path\":")?;
        write_string(writer, self.uri.path())
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Arc<RequestFacts>>> = const { RefCell::new(None) };
}

/// The thread serves `request` until this is dropped; then again what it served before.
#[derive(Debug)]
pub struct Serving {
    before: Option<Arc<RequestFacts>>,
}

/// Marks `request` as the one this thread serves, for as long as the result lives.
pub fn serving(request: &Arc<RequestFacts>) -> Serving {
    Serving {
        before: CURRENT.replace(Some(Arc::clone(request))),
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        CURRENT.set(self.before.take());
    }
}

/// Writes the fields of the request this thread serves, if any.
pub fn write_fields(writer: &mut impl fmt::Write) -> fmt::Result {
    CURRENT.with_borrow(|current| match current {
        Some(request) => request.write_fields(writer),
        None => Ok(()),
    })
}
