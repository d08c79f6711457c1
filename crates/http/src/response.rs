//! JSON success responses, stamped with the request id.

use http::{header, HeaderValue, Response, StatusCode};
use serde::Serialize;

use crate::{RequestId, REQUEST_ID_HEADER};

/// Serialises `body` as JSON with `status`, `Content-Type` and `X-Request-Id`.
pub fn json_response<T: Serialize + ?Sized>(
    status: StatusCode,
    body: &T,
    request_id: &RequestId,
) -> Response<Vec<u8>> {
    // Serialising our own response types cannot fail (no maps with non-string
    // keys, no custom serialisers); fall back to an empty object regardless.
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    let mut response = empty_response(status, request_id);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    *response.body_mut() = bytes;
    response
}

/// A response with no body (204 and friends), stamped with the request id.
pub fn empty_response(status: StatusCode, request_id: &RequestId) -> Response<Vec<u8>> {
    let mut response = Response::new(Vec::new());
    *response.status_mut() = status;
    if let Ok(value) = HeaderValue::from_str(request_id.as_str()) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}
