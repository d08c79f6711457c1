//! `GET /.well-known/jwks.json`: the public keys, so anyone outside the app
//! can verify tokens offline. Only public parts are ever served: the
//! document is rebuilt from the parsed keys, not echoed from the variable.

use clipwave_http::{ApiError, RequestId};
use http::{header, HeaderValue, Response, StatusCode};

use crate::config;

/// Handles `GET /.well-known/jwks.json`.
pub fn handle(request_id: &RequestId) -> Result<Response<Vec<u8>>, ApiError> {
    let body = config::key_set()?.to_jwks_json().into_bytes();
    let mut response = clipwave_http::empty_response(StatusCode::OK, request_id);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    *response.body_mut() = body;
    Ok(response)
}
