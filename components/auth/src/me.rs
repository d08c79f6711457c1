//! `GET /me` → the caller's account; `PATCH /me`
//! `{"current_password","new_password"}` → 204, and every session of the
//! caller is revoked (DESIGN §4: a password change revokes all sessions).

use clipwave_http::{empty_response, json_response, ApiError, RequestId};
use http::{Method, Request, Response, StatusCode};
use serde::Deserialize;

use crate::{
    credentials::{hash_password, verify_password, Password},
    db::Db,
    guard, request, revoke, users_db,
};

#[derive(Deserialize)]
struct PasswordChange {
    current_password: String,
    new_password: String,
}

/// Handles `/me` (any method: authentication comes first).
pub fn handle(
    request: &Request<Vec<u8>>,
    request_id: &RequestId,
) -> Result<Response<Vec<u8>>, ApiError> {
    let guard::Caller { claims, kv, now } = guard::authenticate(request, guard::user)?;
    let db = Db::open()?;
    let user = users_db::by_id(&db, &claims.sub)?.ok_or_else(ApiError::invalid_token)?;
    match *request.method() {
        // HEAD is GET without the body (RFC 9110 §9.3.2); the server drops it.
        Method::GET | Method::HEAD => Ok(json_response(StatusCode::OK, &user, request_id)),
        Method::PATCH => {
            let change: PasswordChange = request::json_body(request)?;
            let new = Password::parse(change.new_password).ok_or_else(|| {
                ApiError::bad_request("The password must be 8 to 1024 bytes long.")
            })?;
            if !verify_password(&change.current_password, &user.password_hash) {
                return Err(ApiError::forbidden("The current password is incorrect."));
            }
            let hash = hash_password(&new).map_err(|error| {
                eprintln!("auth: {error:#}");
                ApiError::internal()
            })?;
            users_db::set_password_hash(&db, &user.id, &hash, now)?;
            revoke::all_of_user(&db, &kv, &user.id, now)?;
            Ok(empty_response(StatusCode::NO_CONTENT, request_id))
        }
        _ => Err(ApiError::method_not_allowed("GET, HEAD, PATCH")),
    }
}
