//! The auth component: users, passwords, tokens and the JWKS.
//!
//! Every route of DESIGN §3's auth table is declared in `spin.toml`; until
//! the auth issue lands each answers 501 `not_implemented`.

use clipwave_http::{ApiError, RequestId};
use http::{Request, Response};
use spin_sdk::http_component;

/// Spin's entry point: one call per request, on a fresh instance.
#[http_component]
fn handle(request: Request<Vec<u8>>) -> Response<Vec<u8>> {
    let request_id = RequestId::from_headers(request.headers());
    ApiError::not_implemented().into_response(&request_id)
}
