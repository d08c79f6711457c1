//! Guest stdout and stderr, line by line, into the host's log with the
//! component id in front (`[gateway] ...`), as `spin up` prints them.

use std::{
    io::Write,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};

/// Which of the host's streams a guest stream goes to.
#[derive(Clone, Copy)]
pub enum Sink {
    /// The host's stdout.
    Stdout,
    /// The host's stderr.
    Stderr,
}

/// A guest output stream that prefixes each line with the component id.
#[derive(Clone)]
pub struct ComponentLog {
    component_id: Arc<str>,
    sink: Sink,
}

impl ComponentLog {
    /// A stream for `component_id` that writes to `sink`.
    pub fn new(component_id: Arc<str>, sink: Sink) -> Self {
        Self { component_id, sink }
    }
}

impl IsTerminal for ComponentLog {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for ComponentLog {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(LineWriter {
            log: self.clone(),
            pending: Vec::new(),
        })
    }
}

/// Buffers a partial line until its newline arrives (or the stream closes).
struct LineWriter {
    log: ComponentLog,
    pending: Vec<u8>,
}

impl LineWriter {
    fn emit_complete_lines(&mut self) {
        while let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            self.emit(&line[..line.len() - 1]);
        }
    }

    fn emit(&self, line: &[u8]) {
        let text = String::from_utf8_lossy(line);
        let prefix = &self.log.component_id;
        // A failed write to our own stdout/stderr has nowhere to be reported.
        let _ = match self.log.sink {
            Sink::Stdout => writeln!(std::io::stdout().lock(), "[{prefix}] {text}"),
            Sink::Stderr => writeln!(std::io::stderr().lock(), "[{prefix}] {text}"),
        };
    }
}

impl AsyncWrite for LineWriter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.pending.extend_from_slice(buf);
        self.emit_complete_lines();
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        if !self.pending.is_empty() {
            let rest = std::mem::take(&mut self.pending);
            self.emit(&rest);
        }
        Poll::Ready(Ok(()))
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        if !self.pending.is_empty() {
            let rest = std::mem::take(&mut self.pending);
            self.emit(&rest);
        }
    }
}
