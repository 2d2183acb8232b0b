//! A service's log lines, captured in a test in the JSON format production writes.
//!
//! Install the capture on the test's thread with `tracing::dispatcher::set_default`, around
//! `shared::telemetry::subscriber(config, capture.clone(), false)`; in a `#[tokio::test]`
//! (one thread) every task of the test, servers included, logs into it.

use std::{
    io,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use serde_json::Value;
use tracing_subscriber::fmt::MakeWriter;

/// Everything written so far, shared by every clone.
#[derive(Debug, Clone, Default)]
pub struct LogCapture {
    written: Arc<Mutex<Vec<u8>>>,
}

impl LogCapture {
    /// Every line, parsed; panics, quoting it, on a line that is not a JSON object.
    pub fn lines(&self) -> Vec<Value> {
        let written = self.lock();
        String::from_utf8_lossy(&written)
            .lines()
            .map(|line| match serde_json::from_str(line) {
                Ok(object @ Value::Object(_)) => object,
                _ => panic!("a log line is not a JSON object: {line}"),
            })
            .collect()
    }

    /// The lines whose `request_id` is `id`.
    pub fn of_request(&self, id: &str) -> Vec<Value> {
        self.lines()
            .into_iter()
            .filter(|line| line["request_id"] == id)
            .collect()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<u8>> {
        // A test that panicked while logging leaves the lines as they are: still worth reading.
        self.written.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl io::Write for LogCapture {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.lock().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl MakeWriter<'_> for LogCapture {
    type Writer = Self;

    fn make_writer(&self) -> Self {
        self.clone()
    }
}
