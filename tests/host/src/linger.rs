//! Lingering close (RFC 9112 §9.6) for connections the server ends.
//!
//! The gateway may answer before it has read the whole request: a 413 as
//! soon as an upload passes the size limit. hyper then closes the
//! connection with the rest of the body unread, and closing a socket whose
//! receive buffer holds data makes the kernel send a reset; a client still
//! sending its body may take that reset before it has read the answer, and
//! reports "connection reset" instead of the 413. So, once hyper is done
//! with a connection, the socket is half-closed (FIN: the answer is
//! complete) and what the client still sends is read and thrown away, for
//! at most [`LINGER_FOR`] (and [`LINGER_IDLE`] without data), before it is
//! closed. A client that closes first, as keep-alive clients do, costs one
//! read that returns end of file at once.
//!
//! This changes no response; Spin's own server closes at once and has the
//! race, which is why our tests once had to retry it.

use std::io::IoSlice;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{timeout, Instant};

/// The longest a closed connection is drained.
pub const LINGER_FOR: Duration = Duration::from_secs(5);
/// Draining stops after this long without data.
pub const LINGER_IDLE: Duration = Duration::from_secs(2);
/// Draining stops after this many bytes.
const LINGER_MAX_BYTES: usize = 64 << 20;

/// A TCP stream that is drained before it is closed (see the module docs).
#[derive(Debug)]
pub struct LingeringStream {
    /// Always `Some` until the stream is dropped.
    stream: Option<TcpStream>,
}

impl LingeringStream {
    /// Wraps an accepted connection.
    pub fn new(stream: TcpStream) -> Self {
        Self {
            stream: Some(stream),
        }
    }

    fn stream(self: Pin<&mut Self>) -> Pin<&mut TcpStream> {
        let stream = self.get_mut().stream.as_mut();
        Pin::new(stream.expect("the stream is only taken when dropped"))
    }
}

impl Drop for LingeringStream {
    fn drop(&mut self) {
        let Some(stream) = self.stream.take() else {
            return;
        };
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(drain_and_close(stream));
        }
    }
}

/// Half-closes `stream`, discards what the peer still sends (bounded in
/// time and bytes), then closes it by dropping it.
async fn drain_and_close(mut stream: TcpStream) {
    if stream.shutdown().await.is_err() {
        return;
    }
    let deadline = Instant::now() + LINGER_FOR;
    let mut buf = vec![0u8; 16 * 1024];
    let mut discarded = 0;
    while discarded < LINGER_MAX_BYTES {
        let wait = LINGER_IDLE.min(deadline.saturating_duration_since(Instant::now()));
        match timeout(wait, stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => discarded += n,
            _ => break,
        }
    }
}

impl AsyncRead for LingeringStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        self.stream().poll_read(cx, buf)
    }
}

impl AsyncWrite for LingeringStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.stream().poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        self.stream().poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream
            .as_ref()
            .is_some_and(TcpStream::is_write_vectored)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.stream().poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.stream().poll_shutdown(cx)
    }
}
