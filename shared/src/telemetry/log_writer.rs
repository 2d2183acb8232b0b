//! Where the services' log lines go: stdout, in batches.
//!
//! A `write` per line costs a system call per request, a share of db-service's CPU under load
//! that the benchmarks measure (docs/benchmarks.md, bench/profiles/db-service-before.svg). Lines at info and below are gathered and written
//! together once [`BATCH_BYTES`] have gathered or [`FLUSH_AFTER`] after the first of them, as
//! nginx's `access_log ... buffer= flush=` does. A warning or an error is written at once, with
//! every line before it, so a failure is neither late nor out of order; `startup::end` writes
//! what is left when the service stops. (tracing-appender's non-blocking writer was tried too:
//! handing each line to its thread cost db-service more throughput than the write it saves.)

use std::{
    io::{self, Write},
    sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError},
    thread,
    time::Duration,
};

use tracing::{Level, Metadata};
use tracing_subscriber::fmt::MakeWriter;

/// Gathered lines are written once they reach this size...
pub const BATCH_BYTES: usize = 32 * 1024;
/// ...or this long after the first of them, whichever comes first.
pub const FLUSH_AFTER: Duration = Duration::from_millis(100);

/// Log lines for `output` (stdout in the services), written in batches: see the module's
/// documentation. Clones share the batch.
#[derive(Debug)]
pub struct BatchedWriter<W> {
    batch: Arc<Batch<W>>,
}

impl<W> Clone for BatchedWriter<W> {
    fn clone(&self) -> Self {
        Self {
            batch: Arc::clone(&self.batch),
        }
    }
}

#[derive(Debug)]
struct Batch<W> {
    pending: Mutex<Pending<W>>,
    first_line: Condvar,
}

#[derive(Debug)]
struct Pending<W> {
    lines: Vec<u8>,
    output: W,
}

impl BatchedWriter<io::Stdout> {
    pub fn stdout() -> io::Result<Self> {
        Self::start(io::stdout())
    }
}

impl<W: Write + Send + 'static> BatchedWriter<W> {
    /// Starts the thread that writes each batch at most [`FLUSH_AFTER`] after its first line.
    pub fn start(output: W) -> io::Result<Self> {
        let batch = Arc::new(Batch {
            pending: Mutex::new(Pending {
                lines: Vec::with_capacity(BATCH_BYTES),
                output,
            }),
            first_line: Condvar::new(),
        });
        let flusher = Arc::clone(&batch);
        thread::Builder::new()
            .name("log-flusher".into())
            .spawn(move || flusher.flush_forever())?;
        Ok(Self { batch })
    }

    /// Writes every gathered line now.
    pub fn flush(&self) -> io::Result<()> {
        self.batch.lock().write_out()
    }
}

impl<W: Write> Batch<W> {
    fn lock(&self) -> MutexGuard<'_, Pending<W>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn flush_forever(&self) {
        loop {
            drop(
                self.first_line
                    .wait_while(self.lock(), |pending| pending.lines.is_empty())
                    .unwrap_or_else(PoisonError::into_inner),
            );
            thread::sleep(FLUSH_AFTER);
            // Nowhere to report a failure to but the log that failed; the next write retries.
            let _ = self.lock().write_out();
        }
    }

    fn append(&self, line: &[u8], urgent: bool) -> io::Result<()> {
        let mut pending = self.lock();
        let first = pending.lines.is_empty();
        pending.lines.extend_from_slice(line);
        if urgent || pending.lines.len() >= BATCH_BYTES {
            pending.write_out()
        } else {
            if first {
                self.first_line.notify_one();
            }
            Ok(())
        }
    }
}

impl<W: Write> Pending<W> {
    /// Writes the gathered lines under the batch's lock, so batches stay in order. Lines that
    /// cannot be written (stdout closed) are dropped rather than left to grow without end.
    fn write_out(&mut self) -> io::Result<()> {
        if self.lines.is_empty() {
            return Ok(());
        }
        let written = self
            .output
            .write_all(&self.lines)
            .and_then(|()| self.output.flush());
        self.lines.clear();
        written
    }
}

/// One log line on its way into the batch: tracing-subscriber formats a whole line, then
/// writes it with one call.
#[derive(Debug)]
pub struct Line<'batch, W> {
    batch: &'batch Batch<W>,
    urgent: bool,
}

impl<W: Write> Write for Line<'_, W> {
    fn write(&mut self, line: &[u8]) -> io::Result<usize> {
        self.batch.append(line, self.urgent)?;
        Ok(line.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<W> BatchedWriter<W> {
    /// The writer of one line at `level`: warnings and errors are urgent.
    fn line(&self, level: Level) -> Line<'_, W> {
        Line {
            batch: &self.batch,
            urgent: level <= Level::WARN,
        }
    }
}

impl<'batch, W: Write + 'batch> MakeWriter<'batch> for BatchedWriter<W> {
    type Writer = Line<'batch, W>;

    fn make_writer(&'batch self) -> Self::Writer {
        self.line(Level::ERROR)
    }

    fn make_writer_for(&'batch self, metadata: &Metadata<'_>) -> Self::Writer {
        self.line(*metadata.level())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    /// What the writer has written so far, shared with the test.
    #[derive(Debug, Clone, Default)]
    struct Output(Arc<Mutex<Vec<u8>>>);

    impl Write for Output {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Output {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    fn log(writer: &BatchedWriter<Output>, level: Level, line: &str) {
        writer.line(level).write_all(line.as_bytes()).unwrap();
    }

    fn writer() -> (BatchedWriter<Output>, Output) {
        let output = Output::default();
        (BatchedWriter::start(output.clone()).unwrap(), output)
    }

    #[test]
    fn an_info_line_waits_for_its_batch_and_is_written_soon_after() {
        let (writer, output) = writer();
        log(&writer, Level::INFO, "one\n");
        assert_eq!(output.text(), "", "written before the batch was due");
        let deadline = Instant::now() + FLUSH_AFTER * 20;
        while output.text().is_empty() && Instant::now() < deadline {
            thread::sleep(FLUSH_AFTER / 10);
        }
        assert_eq!(output.text(), "one\n");
    }

    #[test]
    fn a_warning_is_written_at_once_after_the_lines_before_it() {
        let (writer, output) = writer();
        log(&writer, Level::INFO, "first\n");
        log(&writer, Level::WARN, "warning\n");
        assert_eq!(output.text(), "first\nwarning\n");
        log(&writer, Level::DEBUG, "debug\n");
        log(&writer, Level::ERROR, "error\n");
        assert_eq!(output.text(), "first\nwarning\ndebug\nerror\n");
    }

    #[test]
    fn a_full_batch_is_written_at_once_and_flush_writes_the_rest() {
        let (writer, output) = writer();
        let line = format!("{}\n", "x".repeat(99));
        let lines = BATCH_BYTES / line.len() + 1;
        for _ in 0..lines {
            log(&writer, Level::INFO, &line);
        }
        assert_eq!(output.text(), line.repeat(lines), "the batch was full");
        log(&writer, Level::INFO, "last\n");
        writer.flush().unwrap();
        assert_eq!(output.text(), line.repeat(lines) + "last\n");
    }
}
