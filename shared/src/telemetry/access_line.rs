//! The access line of a request, written straight into the log's batch when the log is JSON.
//!
//! As a tracing event it cost db-service a fifth of its instructions per request
//! (bench/instructions.py): the dispatch, a visitor per field, the span's fields looked up in
//! the registry, the timestamp formatted from scratch. The access log layer already holds every
//! fact of the line, so [`write`] renders the object [`super::json_log`] would have (same keys,
//! same order) into a buffer the thread keeps, and hands it to the writer the subscriber writes
//! to: the [`AccessLines`] layer, which `telemetry::subscriber` adds to JSON logs. `RUST_LOG`
//! still decides: a line is written only where tracing would have written the event. With
//! `LOG_FORMAT=text` (dev), and under any other subscriber, the line is an ordinary event.

use std::{cell::RefCell, io::Write as _, time::Duration};

use tracing::{Level, Metadata, Subscriber, callsite::Callsite as _};
use tracing_subscriber::{Layer, fmt::MakeWriter};

use crate::telemetry::json_log::{write_string, write_timestamp};

/// Every line's `target`, as the events' would be.
const TARGET: &str = "shared::telemetry::access_log";

/// A static callsite's metadata for the access line at one level.
macro_rules! access_callsite {
    ($level:expr) => {
        tracing::callsite!(
            name: "request",
            kind: tracing::metadata::Kind::EVENT,
            target: TARGET,
            level: $level,
            fields: status, latency_ms
        )
        .metadata()
    };
}

/// The facts of one access line.
#[derive(Debug, Clone, Copy)]
pub struct AccessLine<'a> {
    pub level: Level,
    pub request_id: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    pub status: u16,
    pub latency: Duration,
}

/// Where JSON access lines go: the subscriber's writer. A layer that does nothing but be found
/// (`Dispatch::downcast_ref`) by [`write`].
pub struct AccessLines {
    output: Box<WriteLine>,
}

/// Writes one whole line, choosing the writer by the line's metadata.
type WriteLine = dyn Fn(&Metadata<'static>, &[u8]) + Send + Sync;

impl std::fmt::Debug for AccessLines {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("AccessLines")
            .finish_non_exhaustive()
    }
}

impl AccessLines {
    /// Lines for `writer`, a clone of the one the subscriber's JSON layer writes to.
    pub fn new<W>(writer: W) -> Self
    where
        W: for<'writer> MakeWriter<'writer> + Send + Sync + 'static,
    {
        Self {
            output: Box::new(move |metadata, line| {
                // Nowhere to report a failed log write to; the batch retries on the next.
                let _ = writer.make_writer_for(metadata).write_all(line);
            }),
        }
    }
}

impl<S: Subscriber> Layer<S> for AccessLines {}

/// Writes the access line, if `RUST_LOG` lets its level through.
pub fn write(line: &AccessLine<'_>) {
    let enabled = match line.level {
        Level::WARN => tracing::enabled!(target: TARGET, Level::WARN),
        Level::INFO => tracing::enabled!(target: TARGET, Level::INFO),
        _ => tracing::enabled!(target: TARGET, Level::DEBUG),
    };
    if !enabled {
        return;
    }
    let written = tracing::dispatcher::get_default(|dispatch| {
        dispatch
            .downcast_ref::<AccessLines>()
            .map(|lines| write_json(lines, line))
            .is_some()
    });
    if !written {
        write_event(line);
    }
}

/// Whether the subscriber writes JSON access lines directly: it then takes a request's fields
/// from `current_request`, and the request needs no span.
pub fn written_directly() -> bool {
    tracing::dispatcher::get_default(tracing::Dispatch::is::<AccessLines>)
}

thread_local! {
    /// The line being rendered: one buffer per thread, kept between lines.
    static BUFFER: RefCell<String> = const { RefCell::new(String::new()) };
}

fn write_json(lines: &AccessLines, line: &AccessLine<'_>) {
    BUFFER.with_borrow_mut(|buffer| {
        buffer.clear();
        // Writing into a String cannot fail.
        let _ = render(buffer, line);
        (lines.output)(metadata(line.level), buffer.as_bytes());
    });
}

/// The object `json_log::JsonLine` writes for the event, with the span's fields before the
/// event's.
fn render(buffer: &mut String, line: &AccessLine<'_>) -> std::fmt::Result {
    buffer.push_str("{\"timestamp\":\"");
    write_timestamp(buffer)?;
    buffer.push_str("\",\"level\":\"");
    buffer.push_str(line.level.as_str());
    buffer.push_str("\",\"target\":\"");
    buffer.push_str(TARGET);
    buffer.push_str("\",\"request_id\":");
    write_string(buffer, line.request_id)?;
    buffer.push_str(",\"method\":");
    write_string(buffer, line.method)?;
    buffer.push_str(",\"path\":");
    write_string(buffer, line.path)?;
    buffer.push_str(",\"message\":\"request\",\"status\":");
    buffer.push_str(itoa::Buffer::new().format(line.status));
    buffer.push_str(",\"latency_ms\":");
    write_milliseconds(buffer, line.latency);
    buffer.push_str("}\n");
    Ok(())
}

/// Milliseconds to 10 µs, as `access_log::milliseconds` rounds them and a float prints them:
/// `2.53`, `0.1`, `12`.
fn write_milliseconds(buffer: &mut String, latency: Duration) {
    let hundredths = (latency.as_nanos() + 5_000) / 10_000;
    buffer.push_str(itoa::Buffer::new().format(hundredths / 100));
    let (tenths, hundredths) = ((hundredths / 10) % 10, hundredths % 10);
    if tenths + hundredths > 0 {
        buffer.push('.');
        buffer.push(digit(tenths));
        if hundredths > 0 {
            buffer.push(digit(hundredths));
        }
    }
}

fn digit(value: u128) -> char {
    char::from_digit(u32::try_from(value).unwrap_or(0), 10).unwrap_or('0')
}

/// The metadata the writer is chosen by (a warning is written at once, other lines batched).
fn metadata(level: Level) -> &'static Metadata<'static> {
    match level {
        Level::WARN => access_callsite!(Level::WARN),
        Level::INFO => access_callsite!(Level::INFO),
        _ => access_callsite!(Level::DEBUG),
    }
}

/// The line as an event, for subscribers without [`AccessLines`].
fn write_event(line: &AccessLine<'_>) {
    let (status, latency_ms) = (line.status, super::access_log::milliseconds(line.latency));
    match line.level {
        Level::WARN => tracing::warn!(target: TARGET, status, latency_ms, "request"),
        Level::INFO => tracing::info!(target: TARGET, status, latency_ms, "request"),
        _ => tracing::debug!(target: TARGET, status, latency_ms, "request"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;
    use test_support::logs::LogCapture;

    use super::*;
    use crate::telemetry::{self, LogFormat, TelemetryConfig};

    const LINE: AccessLine<'static> = AccessLine {
        level: Level::INFO,
        request_id: "id-\"quoted\"",
        method: "POST",
        path: "/hits/x",
        status: 200,
        latency: Duration::from_micros(2_534),
    };

    /// The lines `log` writes inside a request's span, under the test binary's JSON subscriber
    /// (the production one, at `info`).
    fn logged(log: impl FnOnce()) -> Vec<Value> {
        let (capture, _guard) = LogCapture::this_thread(|writer| {
            let config = TelemetryConfig::new("info", LogFormat::Json).unwrap();
            telemetry::subscriber(config, writer, false)
        });
        let span = tracing::info_span!(
            "request",
            request_id = LINE.request_id,
            method = LINE.method,
            path = LINE.path
        );
        span.in_scope(log);
        capture.lines()
    }

    #[test]
    fn the_direct_line_is_the_object_the_event_would_have_written_keys_in_order() {
        let lines = logged(|| {
            write(&LINE);
            write_event(&LINE);
        });
        let [direct, as_event] = lines.as_slice() else {
            panic!("two lines expected: {lines:?}")
        };
        let keys = |line: &Value| {
            line.as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(keys(direct), keys(as_event));
        let without_time = |line: &Value| {
            let mut line = line.clone();
            line.as_object_mut().unwrap().remove("timestamp");
            line
        };
        assert_eq!(without_time(direct), without_time(as_event));
        assert_eq!(direct["latency_ms"], Value::from(2.53));
        assert_eq!(direct["request_id"], Value::from("id-\"quoted\""));
    }

    #[test]
    fn a_line_below_the_level_rust_log_lets_through_is_not_written() {
        let debug = AccessLine {
            level: Level::DEBUG,
            ..LINE
        };
        assert_eq!(logged(|| write(&debug)), Vec::<Value>::new());
        let warning = AccessLine {
            level: Level::WARN,
            status: 503,
            ..LINE
        };
        assert_eq!(logged(|| write(&warning))[0]["level"], "WARN");
    }

    #[test]
    fn latencies_are_written_as_the_rounded_float_prints() {
        for micros in [0, 4, 5, 100, 2_534, 2_535, 12_000, 12_345_678, 99_999] {
            let latency = Duration::from_micros(micros);
            let mut written = String::new();
            write_milliseconds(&mut written, latency);
            let printed = super::super::access_log::milliseconds(latency).to_string();
            assert_eq!(written, printed, "{micros} µs");
        }
    }
}
