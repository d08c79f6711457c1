//! The web component: Clipwave's page, and the JSON 404 for unknown paths.
//!
//! It owns the catch-all route `/...`, so any path no other component claims
//! lands here. The page itself is built in a later issue (501 until then);
//! every other path is a JSON `not_found` like the rest of the API.

use clipwave_http::{ApiError, RequestId};
use http::{Request, Response};
use spin_sdk::http_component;

/// Paths that will serve the page and its assets.
const PAGE_PATHS: [&str; 2] = ["/", "/index.html"];

/// Spin's entry point: one call per request, on a fresh instance.
#[http_component]
fn handle(request: Request<Vec<u8>>) -> Response<Vec<u8>> {
    let request_id = RequestId::from_headers(request.headers());
    let error = if PAGE_PATHS.contains(&request.uri().path()) {
        ApiError::not_implemented()
    } else {
        ApiError::not_found()
    };
    error.into_response(&request_id)
}
