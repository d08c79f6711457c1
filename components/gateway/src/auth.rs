//! Who is calling: Bearer tokens checked before anything else (DESIGN §4).
//!
//! - User access tokens: in `auth_mode = "local"` the one-read session
//!   check of `clipwave-token` over key-value `default`; in `"remote"` a
//!   call to `http://auth.spin.internal/validate` with the same header,
//!   whose 401/403 become our own identical answers.
//! - Service tokens (`typ = service`, the worker's) have no session: their
//!   signature is verified against `jwt_public_keys`, in both modes.
//!
//! Everything before the access check (header parsing, `typ`) is shared by
//! both modes, so they answer alike by construction. Identity comes only
//! from validated claims; headers such as `X-User-Id` are never read.
//! Tokens are never logged.

use std::time::{SystemTime, UNIX_EPOCH};

use clipwave_http::ApiError;
use clipwave_token::{
    bearer_token, compact::parse_unverified, session_key, CheckError, SessionRecord, SessionStore,
    StoreError, TokenType,
};
use http::{header::AUTHORIZATION, HeaderMap};
use serde::Deserialize;
use spin_sdk::key_value::Store;

use crate::{
    config::{self, AuthMode},
    failure,
};

/// A signed-in user, from validated claims.
#[derive(Debug, Clone)]
pub struct User {
    /// The user id (`sub`).
    pub id: String,
    /// The normalised e-mail (for the worker's notification).
    pub email: String,
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub enum Caller {
    /// A user with an access token.
    User(User),
    /// A service client (the worker) with a service token.
    Service,
}

impl Caller {
    /// The user, or 403 `insufficient_scope` for a service token.
    ///
    /// # Errors
    /// 403 when the caller is a service.
    pub fn user(self) -> Result<User, ApiError> {
        match self {
            Self::User(user) => Ok(user),
            Self::Service => Err(ApiError::insufficient_scope()),
        }
    }

    /// `Ok` for a service, 403 `insufficient_scope` for a user token.
    ///
    /// # Errors
    /// 403 when the caller is a user.
    pub fn service(self) -> Result<(), ApiError> {
        match self {
            Self::Service => Ok(()),
            Self::User(_) => Err(ApiError::insufficient_scope()),
        }
    }
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// True when an `Authorization` value uses the Bearer scheme (any case).
///
/// The same test as the auth component's guard, so `/validate` and the
/// gateway tell "no bearer token" from "a bad one" alike.
fn is_bearer_scheme(header: &[u8]) -> bool {
    header.len() >= 6 && header[..6].eq_ignore_ascii_case(b"bearer")
}

/// Authenticates the request's `Authorization` header.
///
/// # Errors
/// 401 without Bearer credentials (no header, or another scheme such as
/// Basic: a bare challenge, RFC 6750 §3.1) or with a rejected token
/// (`error="invalid_token"`); 503 when the session store or the auth
/// component cannot be reached (failing closed); 500 when the token
/// variables are broken.
pub async fn authenticate(headers: &HeaderMap) -> Result<Caller, ApiError> {
    let header = match headers.get(AUTHORIZATION) {
        Some(header) if is_bearer_scheme(header.as_bytes()) => header,
        _ => return Err(ApiError::missing_credentials()),
    };
    let token = bearer_token(header.as_bytes()).ok_or_else(ApiError::invalid_token)?;
    // Parsed once: its `typ` picks the path, and the checks reuse it.
    let parsed = parse_unverified(token).map_err(|_| ApiError::invalid_token())?;
    let verifier = config::verifier().map_err(failure::misconfigured)?;
    let now = now_secs();
    match parsed.claims.typ {
        TokenType::Service => {
            verifier.verify_signed_parsed(parsed, TokenType::Service, now)?;
            Ok(Caller::Service)
        }
        TokenType::Refresh => Err(ApiError::invalid_token()),
        TokenType::Access => match config::auth_mode().map_err(failure::misconfigured)? {
            AuthMode::Local => {
                let store = SessionKv::open()?;
                let claims = verifier
                    .check_access_parsed(parsed, &store, now)
                    .map_err(session_check_failed)?;
                Ok(Caller::User(User {
                    id: claims.sub,
                    email: claims.email,
                }))
            }
            AuthMode::Remote => remote_validate(token).await,
        },
    }
}

/// The answer to a failed session check; a store outage is logged (the
/// token never is).
fn session_check_failed(error: CheckError) -> ApiError {
    if let CheckError::Unavailable(cause) = &error {
        eprintln!("auth: session store unavailable: {cause}");
    }
    ApiError::from(error)
}

/// Session records in key-value `default`, as the auth component writes them.
struct SessionKv(Store);

impl SessionKv {
    fn open() -> Result<Self, ApiError> {
        Store::open("default")
            .map(Self)
            .map_err(|error| failure::unavailable("open key-value `default`", error))
    }
}

impl SessionStore for SessionKv {
    fn load(&self, sid: &str) -> Result<Option<SessionRecord>, StoreError> {
        match self.0.get(&session_key(sid)) {
            Ok(Some(bytes)) => SessionRecord::from_bytes(&bytes).map(Some),
            Ok(None) => Ok(None),
            Err(error) => Err(StoreError::new(error)),
        }
    }
}

/// The claims `/validate` answers with; only what we use.
#[derive(Deserialize)]
struct ValidatedClaims {
    sub: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    typ: Option<TokenType>,
}

/// Asks the auth component, over Spin's service chaining.
async fn remote_validate(token: &str) -> Result<Caller, ApiError> {
    let request = spin_sdk::http::Request::get("http://auth.spin.internal/validate")
        .header("authorization", format!("Bearer {token}"))
        .build();
    let response: spin_sdk::http::Response = spin_sdk::http::send(request)
        .await
        .map_err(|error| failure::unavailable("call auth /validate", error))?;
    match *response.status() {
        200 => {
            let claims: ValidatedClaims = serde_json::from_slice(response.body())
                .map_err(|error| failure::unavailable("read auth /validate's answer", error))?;
            if claims.typ.is_some_and(|typ| typ != TokenType::Access) {
                return Err(ApiError::invalid_token());
            }
            Ok(Caller::User(User {
                id: claims.sub,
                email: claims.email,
            }))
        }
        401 => Err(ApiError::invalid_token()),
        403 => Err(ApiError::insufficient_scope()),
        status => Err(failure::unavailable(
            "call auth /validate",
            format!("unexpected status {status}"),
        )),
    }
}
