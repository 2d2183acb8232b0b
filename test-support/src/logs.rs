//! A service's log lines, captured in a test in the JSON format production writes.
//!
//! Tests run in parallel threads of one process. A thread-local subscriber per test
//! (`tracing::dispatcher::set_default`) loses lines now and then: tracing caches, per call
//! site, whether any subscriber wants it, and a call site first reached while another test's
//! subscriber was being registered can stay switched off. So the test binary gets one global
//! subscriber, installed by the first capture, and its writer hands each line to the capture
//! of the thread that wrote it. In a `#[tokio::test]` (one thread) that is every task of the
//! test, servers included.

use std::{
    cell::RefCell,
    io,
    sync::{Arc, Mutex, MutexGuard, Once, PoisonError},
};

use serde_json::Value;
use tracing::Dispatch;
use tracing_subscriber::fmt::MakeWriter;

thread_local! {
    static CAPTURE: RefCell<Option<LogCapture>> = const { RefCell::new(None) };
}

/// Everything this thread wrote since the capture began, shared by every clone.
#[derive(Debug, Clone, Default)]
pub struct LogCapture {
    written: Arc<Mutex<Vec<u8>>>,
}

/// Ends the capture of this thread's lines when dropped.
#[derive(Debug)]
pub struct CaptureGuard(());

impl Drop for CaptureGuard {
    fn drop(&mut self) {
        CAPTURE.with(|capture| capture.borrow_mut().take());
    }
}

impl LogCapture {
    /// Captures the lines this thread logs from now on. `subscriber` builds the process's
    /// subscriber around the writer it is given, the first time any test asks (pass
    /// `shared::telemetry::subscriber` with the JSON format).
    pub fn this_thread(subscriber: impl FnOnce(ThreadWriter) -> Dispatch) -> (Self, CaptureGuard) {
        static INSTALL: Once = Once::new();
        INSTALL.call_once(|| {
            tracing::dispatcher::set_global_default(subscriber(ThreadWriter))
                .expect("no other global subscriber in a test binary");
        });
        let capture = Self::default();
        CAPTURE.with(|current| *current.borrow_mut() = Some(capture.clone()));
        (capture, CaptureGuard(()))
    }

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

/// The writer of the test binary's one subscriber: a line goes to the capture of the thread
/// that logged it, or nowhere.
#[derive(Debug, Clone, Copy)]
pub struct ThreadWriter;

impl io::Write for ThreadWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        CAPTURE.with(|capture| {
            if let Some(capture) = capture.borrow().as_ref() {
                capture.lock().extend_from_slice(bytes);
            }
        });
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl MakeWriter<'_> for ThreadWriter {
    type Writer = Self;

    fn make_writer(&self) -> Self {
        Self
    }
}
