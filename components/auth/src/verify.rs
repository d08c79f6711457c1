//! `POST /verify` `{"access"}` → `{"user_id"}` (Django simplejwt-style):
//! the same one-read check as a Bearer access token, token in the body.

use clipwave_http::{json_response, ApiError, RequestId};
use http::{Request, Response, StatusCode};
use serde::Deserialize;

use crate::{config, request, sessions::KvSessions};

#[derive(Deserialize)]
struct VerifyBody {
    access: String,
}

/// Handles `POST /verify`.
pub fn handle(
    request: &Request<Vec<u8>>,
    request_id: &RequestId,
) -> Result<Response<Vec<u8>>, ApiError> {
    let body: VerifyBody = request::json_body(request)?;
    let kv = KvSessions::open()?;
    let claims = config::verifier()?.check_access(&body.access, &kv, request::now())?;
    Ok(json_response(
        StatusCode::OK,
        &serde_json::json!({ "user_id": claims.sub }),
        request_id,
    ))
}
