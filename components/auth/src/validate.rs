//! `GET /validate` with a Bearer token → 200 and its claims (the tutorial's
//! validate; also what the gateway asks in `auth_mode = "remote"`).
//!
//! Access tokens pass the one-read session check; service tokens their
//! signature. The caller decides what each kind may do, exactly as the
//! gateway's local mode does with the same `clipwave-token` call.

use clipwave_http::{json_response, ApiError, RequestId};
use http::{Request, Response, StatusCode};

use crate::guard;

/// Handles `GET /validate`.
pub fn handle(
    request: &Request<Vec<u8>>,
    request_id: &RequestId,
) -> Result<Response<Vec<u8>>, ApiError> {
    let caller = guard::authenticate(request, guard::any_token)?;
    Ok(json_response(StatusCode::OK, &caller.claims, request_id))
}
