//! Sending replies through Spin's response outparam, streaming blobs.
//!
//! Handlers build a [`Reply`]: a complete `http::Response` for JSON and
//! errors, or a [`BlobReply`] whose bytes are read from key-value `media`
//! chunk by chunk while they are sent, so a download never sits whole in
//! memory. A `HEAD` request gets the same reply through
//! [`Reply::head_only`]: the head as `GET` would send it, no body.

use clipwave_http::{RequestId, REQUEST_ID_HEADER};
use futures::SinkExt;
use http::{HeaderMap, HeaderValue, Response, StatusCode};
use spin_sdk::http::{Fields, OutgoingResponse, ResponseOutparam};

use crate::media_store::{self, Manifest, MediaStore};

/// What a handler answers.
pub enum Reply {
    /// A response whose body is already in memory.
    Full(Response<Vec<u8>>),
    /// Bytes `first..=last` of a stored blob, streamed.
    Blob(BlobReply),
    /// Status and headers only: the answer to `HEAD`.
    Head(StatusCode, HeaderMap),
}

impl Reply {
    /// The same answer without its body (RFC 9110 §9.3.2): exactly the
    /// status and headers `GET` sends. A blob's `Content-Length` is in its
    /// headers; its chunks are never read. JSON goes out without one, as
    /// for `GET`: declaring it on in-memory replies changed how an early
    /// 413 reaches a client still sending its body (its upload broke off
    /// before it read the answer).
    #[must_use]
    pub fn head_only(self) -> Self {
        match self {
            Self::Full(response) => {
                let (parts, _) = response.into_parts();
                Self::Head(parts.status, parts.headers)
            }
            Self::Blob(blob) => Self::Head(blob.status, blob.headers),
            head @ Self::Head(..) => head,
        }
    }
}

/// A streamed answer from key-value `media`.
pub struct BlobReply {
    /// Status (200 or 206).
    pub status: StatusCode,
    /// Headers, including `Content-Length` for exactly the bytes sent.
    pub headers: HeaderMap,
    /// The store holding the blob.
    pub store: MediaStore,
    /// The blob's id.
    pub blob: String,
    /// Its manifest.
    pub manifest: Manifest,
    /// The inclusive byte range to send; `None` for an empty body.
    pub range: Option<(u64, u64)>,
}

impl From<Response<Vec<u8>>> for Reply {
    fn from(response: Response<Vec<u8>>) -> Self {
        Self::Full(response)
    }
}

fn fields(headers: &HeaderMap, request_id: &RequestId) -> Fields {
    let mut list: Vec<(String, Vec<u8>)> = headers
        .iter()
        .filter(|(name, _)| name.as_str() != REQUEST_ID_HEADER)
        .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec()))
        .collect();
    list.push((
        REQUEST_ID_HEADER.to_owned(),
        request_id.as_str().as_bytes().to_vec(),
    ));
    Fields::from_list(&list).unwrap_or_else(|error| {
        eprintln!("response headers refused by the host: {error:?}");
        Fields::new()
    })
}

fn outgoing(status: StatusCode, headers: &HeaderMap, request_id: &RequestId) -> OutgoingResponse {
    let response = OutgoingResponse::new(fields(headers, request_id));
    if response.set_status_code(status.as_u16()).is_err() {
        eprintln!("status {status} refused by the host");
    }
    response
}

/// Sends `reply`; failures after the head has gone can only be logged.
pub async fn send(out: ResponseOutparam, reply: Reply, request_id: &RequestId) {
    match reply {
        Reply::Full(response) => {
            let (parts, body) = response.into_parts();
            let response = outgoing(parts.status, &parts.headers, request_id);
            let mut sink = response.take_body();
            out.set(response);
            if !body.is_empty() {
                if let Err(error) = sink.send(body).await {
                    eprintln!("response body not delivered: {error:?}");
                }
            }
        }
        Reply::Blob(blob) => send_blob(out, blob, request_id).await,
        Reply::Head(status, headers) => {
            // The body is never taken: the host sends none, and a declared
            // `Content-Length` with nothing written is not an error then.
            out.set(outgoing(status, &headers, request_id));
        }
    }
}

async fn send_blob(out: ResponseOutparam, reply: BlobReply, request_id: &RequestId) {
    let response = outgoing(reply.status, &reply.headers, request_id);
    let mut sink = response.take_body();
    out.set(response);
    let Some((first, last)) = reply.range else {
        return;
    };
    for slice in media_store::slices(&reply.manifest, first, last) {
        let bytes = match media_store::read_slice(&reply.store, &reply.blob, slice) {
            Ok(bytes) => bytes,
            Err(error) => {
                // The status is sent; a short body is all we can signal.
                eprintln!("download of blob {} broke off: {error:#}", reply.blob);
                return;
            }
        };
        if let Err(error) = sink.send(bytes).await {
            eprintln!("client stopped reading blob {}: {error:?}", reply.blob);
            return;
        }
    }
}

/// A header value from text we made; invalid bytes become an empty value.
pub fn header_value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static(""))
}
