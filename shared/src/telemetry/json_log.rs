//! The JSON log line, written straight into tracing-subscriber's line buffer.
//!
//! `{"timestamp":…,"level":…,"target":…, the fields of the spans the event happened in,
//! outermost first, those of the request being served, then the event's own fields, "message"
//! among them}`, all on the top level, where log collectors index them. A span's fields are
//! rendered once, when the span is made, and copied into each of its lines; the request's, from
//! [`super::current_request`], when a line is written.
//!
//! tracing-subscriber's own JSON nests span fields (and parses them back for every line);
//! json-subscriber, used before, builds a `serde_json::Value` for every field of every line, a
//! share of db-service's CPU under load with an access line per request that the README
//! quotes (bench/profiles/db-service-before.svg). This format allocates nothing of its own.

use std::{
    cell::{Cell, RefCell},
    fmt::{self, Write as _},
    time::{SystemTime, UNIX_EPOCH},
};

use tracing::{
    Event, Subscriber,
    field::{Field, Visit},
};
use tracing_log::NormalizeEvent;

use crate::telemetry::current_request;
use tracing_subscriber::{
    field::RecordFields,
    fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields, format::Writer},
    registry::LookupSpan,
};

/// Formats each event as one JSON object (see the module's documentation).
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonLine;

/// Renders fields as `,"name":value` pairs: a span's, once, and each event's.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonFields;

impl<S, N> FormatEvent<S, N> for JsonLine
where
    S: Subscriber + for<'lookup> LookupSpan<'lookup>,
    N: for<'writer> FormatFields<'writer> + 'static,
{
    fn format_event(
        &self,
        context: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        // Events from crates that log through `log` carry their real target in fields.
        let normalized = event.normalized_metadata();
        let metadata = normalized.as_ref().unwrap_or_else(|| event.metadata());
        writer.write_str("{\"timestamp\":\"")?;
        write_timestamp(&mut writer)?;
        writer.write_str("\",\"level\":\"")?;
        writer.write_str(metadata.level().as_str())?;
        writer.write_str("\",\"target\":")?;
        write_string(&mut writer, metadata.target())?;
        for span in context
            .event_scope()
            .into_iter()
            .flat_map(tracing_subscriber::registry::Scope::from_root)
        {
            if let Some(fields) = span.extensions().get::<FormattedFields<N>>() {
                writer.write_str(fields)?;
            }
        }
        current_request::write_fields(&mut writer)?;
        let mut visitor = FieldWriter::new(&mut writer);
        event.record(&mut visitor);
        visitor.result?;
        writer.write_str("}\n")
    }
}

impl<'writer> FormatFields<'writer> for JsonFields {
    fn format_fields<R: RecordFields>(
        &self,
        mut writer: Writer<'writer>,
        fields: R,
    ) -> fmt::Result {
        // A span's fields go into a String of their own, which would grow by doubling, a
        // reallocation every few fields: render them where the thread keeps a buffer, and copy
        // them once. (A field whose Debug logs finds the buffer taken: it writes in place.)
        FIELDS.with(|buffer| {
            let Ok(mut buffer) = buffer.try_borrow_mut() else {
                return write_fields(&mut writer, fields);
            };
            buffer.clear();
            write_fields(&mut Writer::new(&mut *buffer), fields)?;
            writer.write_str(&buffer)
        })
    }

    /// Appends without the separator the default inserts: every pair carries its comma.
    fn add_fields(
        &self,
        current: &'writer mut FormattedFields<Self>,
        fields: &tracing::span::Record<'_>,
    ) -> fmt::Result {
        self.format_fields(current.as_writer(), fields)
    }
}

thread_local! {
    static FIELDS: RefCell<String> = const { RefCell::new(String::new()) };
}

fn write_fields(writer: &mut Writer<'_>, fields: impl RecordFields) -> fmt::Result {
    let mut visitor = FieldWriter::new(writer);
    fields.record(&mut visitor);
    visitor.result
}

/// Writes each field it visits as `,"name":value`: numbers and booleans as JSON's, anything
/// else as a string.
struct FieldWriter<'a, 'writer> {
    writer: &'a mut Writer<'writer>,
    result: fmt::Result,
}

impl<'a, 'writer> FieldWriter<'a, 'writer> {
    fn new(writer: &'a mut Writer<'writer>) -> Self {
        Self {
            writer,
            result: Ok(()),
        }
    }

    fn pair(&mut self, field: &Field, value: impl FnOnce(&mut Writer<'writer>) -> fmt::Result) {
        // `log`'s metadata, already used for the target.
        if self.result.is_err() || field.name().starts_with("log.") {
            return;
        }
        self.result = self
            .writer
            .write_char(',')
            .and_then(|()| write_string(self.writer, field.name()))
            .and_then(|()| self.writer.write_char(':'))
            .and_then(|()| value(self.writer));
    }
}

impl Visit for FieldWriter<'_, '_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        if value.is_finite() {
            self.pair(field, |writer| write!(writer, "{value}"));
        } else {
            self.pair(field, |writer| write!(writer, "\"{value}\""));
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.pair(field, |writer| write!(writer, "{value}"));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.pair(field, |writer| write!(writer, "{value}"));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.pair(field, |writer| write!(writer, "{value}"));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.pair(field, |writer| write_string(writer, value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.pair(field, |writer| {
            writer.write_char('"')?;
            write!(Escaping(&mut *writer), "{value:?}")?;
            writer.write_char('"')
        });
    }
}

/// `value` as a JSON string. Most strings need no escape: they are written in one piece.
pub(crate) fn write_string(writer: &mut impl fmt::Write, value: &str) -> fmt::Result {
    writer.write_char('"')?;
    if value
        .bytes()
        .any(|byte| byte < 0x20 || byte == b'"' || byte == b'\\')
    {
        Escaping(&mut *writer).write_str(value)?;
    } else {
        writer.write_str(value)?;
    }
    writer.write_char('"')
}

thread_local! {
    /// The second last written by this thread, and its text up to the seconds.
    static SECOND: Cell<(u64, [u8; 19])> = const { Cell::new((u64::MAX, [0; 19])) };
}

/// Now, in RFC 3339 with microseconds, as tracing-subscriber writes it
/// (`2026-12-07T03:31:09.399863Z`). The calendar part changes once a second and is reused:
/// formatting it anew took more instructions than the rest of an access line.
pub(crate) fn write_timestamp(writer: &mut impl fmt::Write) -> fmt::Result {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let seconds = now.as_secs();
    let (cached, mut text) = SECOND.get();
    if cached != seconds {
        text = calendar(seconds);
        SECOND.set((seconds, text));
    }
    let mut fraction = *b".000000Z";
    let mut micros = now.subsec_micros();
    for digit in fraction[1..7].iter_mut().rev() {
        // A digit: below 10.
        *digit += u8::try_from(micros % 10).unwrap_or(0);
        micros /= 10;
    }
    // Digits and separators only.
    writer.write_str(std::str::from_utf8(&text).unwrap_or_default())?;
    writer.write_str(std::str::from_utf8(&fraction).unwrap_or_default())
}

/// `YYYY-MM-DDTHH:MM:SS` of a Unix time, in UTC.
fn calendar(seconds: u64) -> [u8; 19] {
    let time = i64::try_from(seconds)
        .ok()
        .and_then(|seconds| time::OffsetDateTime::from_unix_timestamp(seconds).ok())
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let mut text = [0; 19];
    let _ = std::io::Write::write_fmt(
        &mut text.as_mut_slice(),
        format_args!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            time.year(),
            u8::from(time.month()),
            time.day(),
            time.hour(),
            time.minute(),
            time.second()
        ),
    );
    text
}

/// Passes text on with JSON's string escapes: quotes, backslashes and control characters.
struct Escaping<W>(W);

impl<W: fmt::Write> fmt::Write for Escaping<W> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let mut plain = 0;
        for (index, byte) in text.bytes().enumerate() {
            let escape = match byte {
                b'"' => "\\\"",
                b'\\' => "\\\\",
                b'\n' => "\\n",
                b'\r' => "\\r",
                b'\t' => "\\t",
                0..0x20 => "",
                _ => continue,
            };
            self.0.write_str(&text[plain..index])?;
            if escape.is_empty() {
                write!(self.0, "\\u{byte:04x}")?;
            } else {
                self.0.write_str(escape)?;
            }
            plain = index + 1;
        }
        self.0.write_str(&text[plain..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(text: &str) -> String {
        let mut out = String::new();
        write_string(&mut out, text).unwrap();
        out
    }

    #[test]
    fn timestamps_are_rfc_3339_in_utc_with_microseconds_as_the_time_crate_writes_them() {
        use time::format_description::well_known::Rfc3339;
        // Across a day, a month, a leap day and a year; and now.
        for seconds in [
            0,
            86_399,
            86_400,
            951_782_399,
            951_782_400,
            1_798_761_599,
            1_798_761_600,
        ] {
            let expected = time::OffsetDateTime::from_unix_timestamp(seconds)
                .unwrap()
                .format(&Rfc3339)
                .unwrap();
            let text = calendar(u64::try_from(seconds).unwrap());
            assert_eq!(
                format!("{}Z", std::str::from_utf8(&text).unwrap()),
                expected
            );
        }
        let mut now = String::new();
        write_timestamp(&mut now).unwrap();
        let parsed = time::OffsetDateTime::parse(&now, &Rfc3339).unwrap();
        assert!((time::OffsetDateTime::now_utc() - parsed).abs() < time::Duration::seconds(2));
        assert_eq!(now.len(), "2026-12-07T03:31:09.399863Z".len(), "{now}");
    }

    #[test]
    fn strings_are_escaped_as_json_reads_them_back() {
        for text in [
            "plain",
            "quote \" and backslash \\",
            "lines\nand\r\ttabs",
            "bell \u{7} and escape \u{1b}",
            "ünïcödé ✓",
            "",
        ] {
            let json = escaped(text);
            assert_eq!(
                serde_json::from_str::<String>(&json).unwrap(),
                text,
                "{json}"
            );
        }
    }
}
