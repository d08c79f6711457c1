//! `POST /refresh` `{"refresh_token"}` → the session's next pair.
//!
//! Each refresh token is single-use (DESIGN §4). Its signature is verified
//! (refreshes are rare), then the session record is read and the token is
//! claimed in SQLite. Presenting a spent token within the 10 s grace window
//! returns the identical pair the first use got (or a clean 401 while that
//! pair is still being written); after it, it is reuse: 401 and the whole
//! session is revoked.

use clipwave_http::{ApiError, RequestId};
use clipwave_token::TokenType;
use http::{Request, Response};
use serde::Deserialize;

use crate::{
    config,
    db::Db,
    families_db::{self, Claim, GRACE_SECS},
    issue::{Issuer, TokenResponse},
    request, revoke,
    sessions::KvSessions,
    users_db,
};

#[derive(Deserialize)]
struct RefreshBody {
    refresh_token: String,
}

/// Handles `POST /refresh`.
pub fn handle(
    request: &Request<Vec<u8>>,
    request_id: &RequestId,
) -> Result<Response<Vec<u8>>, ApiError> {
    let body: RefreshBody = request::json_body(request)?;
    let now = request::now();
    let verifier = config::verifier()?;
    let claims = verifier
        .verify_signed(&body.refresh_token, TokenType::Refresh, now)
        .map_err(ApiError::from)?;
    let sid = claims.sid.clone().ok_or_else(ApiError::invalid_token)?;

    let kv = KvSessions::open()?;
    let record = kv.get(&sid)?.ok_or_else(ApiError::invalid_token)?;
    if record.revoked || record.user_id != claims.sub {
        return Err(ApiError::invalid_token());
    }
    let db = Db::open()?;
    families_db::forget_stale(&db, now)?;
    match families_db::claim_refresh(&db, &claims.jti, &sid, now)? {
        Claim::Won => {}
        Claim::Spent { used_at, pair } if now < used_at.saturating_add(GRACE_SECS) => {
            let (access_token, refresh_token) = pair.ok_or_else(ApiError::invalid_token)?;
            let tokens = TokenResponse {
                access_token,
                refresh_token: Some(refresh_token),
                token_type: "Bearer",
                expires_in: config::lifetimes()?.access,
                user_id: claims.sub,
            };
            return Ok(tokens.into_response(request_id));
        }
        Claim::Spent { .. } => {
            eprintln!("auth: request {request_id}: refresh token reused; revoking its session");
            revoke::session(&db, &kv, &sid, now)?;
            return Err(ApiError::invalid_token());
        }
        Claim::Unknown => return Err(ApiError::invalid_token()),
    }
    let user = users_db::by_id(&db, &claims.sub)?.ok_or_else(ApiError::invalid_token)?;
    let issuer = Issuer::from_config()?;
    let tokens = issuer.rotate(&db, &kv, &user, &sid, record, now)?;
    if let Some(refresh_token) = &tokens.refresh_token {
        families_db::store_next_pair(&db, &claims.jti, &tokens.access_token, refresh_token)?;
    }
    Ok(tokens.into_response(request_id))
}
