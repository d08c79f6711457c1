//! Authentication of Bearer routes, checked before anything else (§4a).
//!
//! No credentials → 401 with a bare challenge; a rejected token → 401
//! `invalid_token`; a valid token of the wrong kind (service token on a user
//! route, non-admin on `/users`) → 403 `insufficient_scope`.

use clipwave_http::ApiError;
use clipwave_token::{bearer_token, Claims, Role, TokenType};
use http::Request;

use crate::{config, request, sessions::KvSessions};

/// A caller whose token passed: its claims, plus the session store and
/// the moment the check used, which the handler goes on to need.
pub struct Caller {
    /// The token's validated claims.
    pub claims: Claims,
    /// Key-value `default` (session records), already open.
    pub kv: KvSessions,
    /// Unix seconds at the check.
    pub now: u64,
}

/// A check of a request's token: [`any_token`], [`user`] or [`admin`].
pub type Rule = fn(&Request<Vec<u8>>, &KvSessions, u64) -> Result<Claims, ApiError>;

/// Checks the request's token with `rule` ([`any_token`], [`user`],
/// [`admin`]) against a freshly opened session store.
///
/// # Errors
/// The rule's 401/403, or 503 when the store cannot be opened.
pub fn authenticate(request: &Request<Vec<u8>>, rule: Rule) -> Result<Caller, ApiError> {
    let now = request::now();
    let kv = KvSessions::open()?;
    let claims = rule(request, &kv, now)?;
    Ok(Caller { claims, kv, now })
}

/// The Bearer token of the request.
///
/// # Errors
/// 401 without `error` when no Bearer credentials were sent; 401
/// `invalid_token` when the Bearer value is garbled.
pub fn bearer(request: &Request<Vec<u8>>) -> Result<&str, ApiError> {
    let header = request::authorization(request).ok_or_else(ApiError::missing_credentials)?;
    let is_bearer = header.len() >= 6 && header[..6].eq_ignore_ascii_case(b"bearer");
    if !is_bearer {
        return Err(ApiError::missing_credentials());
    }
    bearer_token(header).ok_or_else(ApiError::invalid_token)
}

/// Any valid access or service token (what `GET /validate` accepts).
pub fn any_token(
    request: &Request<Vec<u8>>,
    kv: &KvSessions,
    now: u64,
) -> Result<Claims, ApiError> {
    let token = bearer(request)?;
    Ok(config::verifier()?.check_bearer(token, kv, now)?)
}

/// A user's access token (user or admin).
pub fn user(request: &Request<Vec<u8>>, kv: &KvSessions, now: u64) -> Result<Claims, ApiError> {
    let claims = any_token(request, kv, now)?;
    if claims.typ != TokenType::Access {
        return Err(ApiError::insufficient_scope());
    }
    Ok(claims)
}

/// An admin's access token.
pub fn admin(request: &Request<Vec<u8>>, kv: &KvSessions, now: u64) -> Result<Claims, ApiError> {
    let claims = user(request, kv, now)?;
    if claims.role != Role::Admin {
        return Err(ApiError::insufficient_scope());
    }
    Ok(claims)
}
