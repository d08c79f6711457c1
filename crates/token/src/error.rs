//! Why a token was refused, and how that becomes an HTTP answer.
//!
//! Reasons are kept apart for logs and tests, but every [`Rejection`] gives
//! the client the same 401 `invalid_token`: telling a forger which check
//! failed would only help them.

use clipwave_http::ApiError;

/// Why a token was rejected. Never carries the token or any part of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// Not three base64url parts of sane size with JSON inside.
    #[error("malformed token")]
    Malformed,
    /// `alg` is not `EdDSA` (including `none` and HMAC algorithms).
    #[error("algorithm not allowed")]
    Algorithm,
    /// The header carries something other than `alg`, `kid` and `typ: JWT`
    /// (`jwk`, `jku`, `x5u`, `x5c`, `crit`, ...).
    #[error("header parameter not allowed")]
    Header,
    /// `kid` missing, not an id, or not in the JWKS.
    #[error("unknown key id")]
    UnknownKey,
    /// The signature does not verify.
    #[error("bad signature")]
    Signature,
    /// `iss` differs from the configured issuer.
    #[error("wrong issuer")]
    Issuer,
    /// `aud` differs from the configured audience.
    #[error("wrong audience")]
    Audience,
    /// `typ` is not the kind this check accepts.
    #[error("wrong token type")]
    Type,
    /// `exp` is past, beyond the leeway.
    #[error("expired")]
    Expired,
    /// `nbf` is in the future, beyond the leeway.
    #[error("not yet valid")]
    NotYetValid,
    /// `sid` missing on a session token, or an id is not in our alphabet.
    #[error("bad session or token id")]
    BadId,
    /// No session record, or it belongs to someone else.
    #[error("unknown session")]
    UnknownSession,
    /// The session was revoked (logout, password change, deletion, reuse).
    #[error("session revoked")]
    Revoked,
    /// The session does not list this token's hash (e.g. a forgery).
    #[error("token not issued for this session")]
    NotListed,
}

impl From<Rejection> for ApiError {
    fn from(_: Rejection) -> Self {
        ApiError::invalid_token()
    }
}

/// A failure of the session store, with a description for the log only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("session store unavailable: {0}")]
pub struct StoreError(String);

impl StoreError {
    /// Wraps the store's own error text (must not contain secrets).
    pub fn new(description: impl std::fmt::Display) -> Self {
        Self(description.to_string())
    }
}

/// The outcome of a check that needs the session store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    /// The token is not acceptable: 401 `invalid_token`.
    #[error(transparent)]
    Rejected(#[from] Rejection),
    /// The store could not be read: 503, failing closed.
    #[error(transparent)]
    Unavailable(#[from] StoreError),
}

impl From<CheckError> for ApiError {
    fn from(error: CheckError) -> Self {
        match error {
            CheckError::Rejected(_) => ApiError::invalid_token(),
            CheckError::Unavailable(_) => ApiError::unavailable(),
        }
    }
}
