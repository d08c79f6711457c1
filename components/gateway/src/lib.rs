//! The gateway component: uploads, jobs, downloads and the worker API.
//!
//! # Routes
//! | route | handler |
//! |---|---|
//! | `GET /healthz` | [`healthz`] |
//! | `POST /upload`, `/jobs/...`, `GET /download`, `/internal/...` | not built yet: 501 |
//!
//! # Stores and variables
//! Key-value `default` and `media`, SQLite `default` (see `spin.toml`).

mod healthz;

use clipwave_http::{ApiError, RequestId};
use http::{Method, Request, Response};
use spin_sdk::http_component;

/// Spin's entry point: one call per request, on a fresh instance.
#[http_component]
fn handle(request: Request<Vec<u8>>) -> Response<Vec<u8>> {
    let request_id = RequestId::from_headers(request.headers());
    let outcome = match (request.method(), request.uri().path()) {
        (&Method::GET | &Method::HEAD, "/healthz") => Ok(healthz::report(&request_id)),
        (_, "/healthz") => Err(ApiError::method_not_allowed("GET, HEAD")),
        _ => Err(ApiError::not_implemented()),
    };
    outcome.unwrap_or_else(|error| error.into_response(&request_id))
}
