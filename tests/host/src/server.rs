//! The HTTP/1.1 server in front of [`App`].
//!
//! It takes its listener and a shutdown signal as arguments, so tests can
//! bind `127.0.0.1:0` and stop it cleanly. Sockets get `TCP_NODELAY`: a
//! response that leaves in two writes (head, then a streamed body) must not
//! wait for the client's delayed ACK. Connections are drained before they
//! are closed ([`crate::linger`]), so an answer sent before the request body
//! was read (413) is not lost to a reset.

use std::{future::Future, net::SocketAddr, time::Duration};

use anyhow::Result;
use http_body_util::BodyExt;
use hyper::{body::Incoming, server::conn::http1, service::service_fn, Request};
use hyper_util::{rt::TokioIo, server::graceful::GracefulShutdown};
use tokio::net::TcpListener;

use crate::app::App;
use crate::linger::LingeringStream;

/// How long in-flight requests may run after shutdown is requested.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `app` on `listener` until `shutdown` resolves, then drains.
pub async fn serve(
    listener: TcpListener,
    app: App,
    shutdown: impl Future<Output = ()>,
) -> Result<()> {
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, client_addr) = match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of file descriptors and the like: keep serving.
                        tracing::warn!("accept failed: {error}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let app = app.clone();
                let service = service_fn(move |request: Request<Incoming>| {
                    let app = app.clone();
                    async move { Ok::<_, std::convert::Infallible>(handle(app, request, client_addr).await) }
                });
                let connection = http1::Builder::new()
                    .max_buf_size(64 * 1024 + 8 * 1024)
                    .serve_connection(TokioIo::new(LingeringStream::new(stream)), service);
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    if let Err(error) = connection.await {
                        tracing::debug!("connection from {client_addr} ended: {error}");
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    tracing::info!("shutting down; draining in-flight requests");
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(DRAIN_TIMEOUT) => tracing::warn!("drain timed out"),
    }
    Ok(())
}

async fn handle(
    app: App,
    request: Request<Incoming>,
    client_addr: SocketAddr,
) -> http::Response<wasmtime_wasi_http::WasiBody> {
    let request = request.map(|body| body.map_err(Into::into).boxed_unsync());
    app.handle(request, client_addr).await
}
