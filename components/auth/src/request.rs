//! What handlers read from a request: the clock, the client's address,
//! JSON bodies with a size limit, and the bearer token.

use std::net::SocketAddr;

use clipwave_http::ApiError;
use http::{header, Request};
use serde::de::DeserializeOwned;

/// Largest JSON body the auth routes accept.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Unix seconds now.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The client's IP from Spin's `spin-client-addr` (`ip:port`), without the
/// port so that every connection from one address shares a counter.
pub fn client_ip(request: &Request<Vec<u8>>) -> String {
    request
        .headers()
        .get("spin-client-addr")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<SocketAddr>().ok())
        .map(|addr| addr.ip().to_string())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The raw `Authorization` header, if any.
pub fn authorization(request: &Request<Vec<u8>>) -> Option<&[u8]> {
    request
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.as_bytes())
}

/// Parses the body as JSON `T`.
///
/// # Errors
/// 413 over [`MAX_BODY_BYTES`]; 400 when it is not JSON of the right shape.
pub fn json_body<T: DeserializeOwned>(request: &Request<Vec<u8>>) -> Result<T, ApiError> {
    if request.body().len() > MAX_BODY_BYTES {
        return Err(ApiError::payload_too_large());
    }
    let invalid =
        || ApiError::bad_request("The body must be a JSON object with the documented fields.");
    // serde also reads a struct from a JSON array (`["a@b.c", "pw"]`); only
    // an object is a body here (DESIGN §3, docs/openapi.yaml).
    match serde_json::from_slice::<serde_json::Value>(request.body()) {
        Ok(value) if value.is_object() => serde_json::from_value(value).map_err(|_| invalid()),
        _ => Err(invalid()),
    }
}

/// True when the body is empty or only whitespace.
pub fn body_is_empty(request: &Request<Vec<u8>>) -> bool {
    request.body().iter().all(u8::is_ascii_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_addr(addr: &str) -> Request<Vec<u8>> {
        Request::builder()
            .header("spin-client-addr", addr)
            .body(Vec::new())
            .unwrap()
    }

    #[test]
    fn the_client_port_is_dropped_from_the_address() {
        assert_eq!(client_ip(&with_addr("127.0.0.1:5000")), "127.0.0.1");
        assert_eq!(client_ip(&with_addr("[::1]:5000")), "::1");
        assert_eq!(client_ip(&with_addr("garbage")), "unknown");
    }

    #[test]
    fn bodies_that_are_not_json_are_bad_requests() {
        let request = Request::new(b"{nope".to_vec());
        let error = json_body::<serde_json::Value>(&request).unwrap_err();
        assert_eq!(error.code(), clipwave_http::ErrorCode::BadRequest);
        let big = Request::new(vec![b' '; MAX_BODY_BYTES + 1]);
        let error = json_body::<serde_json::Value>(&big).unwrap_err();
        assert_eq!(error.code(), clipwave_http::ErrorCode::PayloadTooLarge);
    }
}
