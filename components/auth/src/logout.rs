//! `POST /logout` with a Bearer access token → 204 and the caller's session
//! revoked; with `{"all": true}`, every session of the caller.

use clipwave_http::{empty_response, ApiError, RequestId};
use http::{Request, Response, StatusCode};
use serde::Deserialize;

use crate::{db::Db, guard, request, revoke};

#[derive(Deserialize, Default)]
struct LogoutBody {
    #[serde(default)]
    all: bool,
}

/// Handles `POST /logout`.
pub fn handle(
    request: &Request<Vec<u8>>,
    request_id: &RequestId,
) -> Result<Response<Vec<u8>>, ApiError> {
    let guard::Caller { claims, kv, now } = guard::authenticate(request, guard::user)?;
    let body: LogoutBody = if request::body_is_empty(request) {
        LogoutBody::default()
    } else {
        request::json_body(request)?
    };
    let db = Db::open()?;
    if body.all {
        revoke::all_of_user(&db, &kv, &claims.sub, now)?;
    } else if let Some(sid) = &claims.sid {
        revoke::session(&db, &kv, sid, now)?;
    }
    Ok(empty_response(StatusCode::NO_CONTENT, request_id))
}
