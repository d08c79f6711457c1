//! The auth component: users, passwords, tokens and the JWKS (DESIGN §3, §4).
//!
//! # Routes
//! | route | handler |
//! |---|---|
//! | `POST /register` | [`register`] |
//! | `POST /login` | [`login`] |
//! | `POST /refresh` | [`refresh`] |
//! | `POST /logout` | [`logout`] |
//! | `GET /validate` | [`validate`] |
//! | `POST /verify` | [`verify`] |
//! | `POST /token` | [`token`] (client credentials) |
//! | `GET /.well-known/jwks.json` | [`jwks`] |
//! | `GET`, `PATCH /me` | [`me`] |
//! | `/users`, `/users/{id}` | [`users`] |
//!
//! # Stores
//! - Key-value `default`: session records `session:<sid>` ([`sessions`]),
//!   throttling counters ([`throttle`]).
//! - SQLite `default`: `auth_users` ([`users_db`]), `auth_sessions` and
//!   `auth_refresh_tokens` ([`families_db`]), migrated by [`db`].
//!
//! # Variables
//! `jwt_issuer`, `jwt_audience`, `jwt_signing_key`, `jwt_public_keys`,
//! `*_ttl_secs`, `clock_leeway_secs`, `open_registration`, `admin_email`,
//! `admin_password`, `admin_password_hash`, `login_*`, `worker_client_id`,
//! `worker_client_secret_hash` (see [`config`]).
//!
//! Nothing here logs a password, secret or token.

mod config;
mod credentials;
mod db;
mod families_db;
mod guard;
mod issue;
mod jwks;
mod login;
mod logout;
mod me;
mod refresh;
mod register;
mod request;
mod revoke;
mod sessions;
mod throttle;
mod token;
mod users;
mod users_db;
mod validate;
mod verify;

use clipwave_http::{ApiError, RequestId};
use http::{Method, Request, Response};
use spin_sdk::http_component;

/// Spin's entry point: one call per request, on a fresh instance.
#[http_component]
fn handle(request: Request<Vec<u8>>) -> Response<Vec<u8>> {
    let request_id = RequestId::from_headers(request.headers());
    route(&request, &request_id).unwrap_or_else(|error| error.into_response(&request_id))
}

/// The route table; protected routes authenticate before checking methods.
fn route(request: &Request<Vec<u8>>, id: &RequestId) -> Result<Response<Vec<u8>>, ApiError> {
    let method = request.method();
    match request.uri().path() {
        "/register" if method == Method::POST => register::handle(request, id),
        "/login" if method == Method::POST => login::handle(request, id),
        "/refresh" if method == Method::POST => refresh::handle(request, id),
        "/verify" if method == Method::POST => verify::handle(request, id),
        "/token" if method == Method::POST => token::handle(request, id),
        "/logout" => post_only(request, id, logout::handle, guard::user),
        "/validate" => validate_route(request, id),
        "/.well-known/jwks.json" if method == Method::GET || method == Method::HEAD => {
            jwks::handle(id)
        }
        "/me" => me::handle(request, id),
        path if path == "/users" || path.starts_with("/users/") => users::handle(request, id),
        "/register" | "/login" | "/refresh" | "/verify" | "/token" => {
            Err(ApiError::method_not_allowed("POST"))
        }
        "/.well-known/jwks.json" => Err(ApiError::method_not_allowed("GET, HEAD")),
        _ => Err(ApiError::not_found()),
    }
}

type Handler = fn(&Request<Vec<u8>>, &RequestId) -> Result<Response<Vec<u8>>, ApiError>;

/// A protected POST route: a wrong method is 405 only for a caller the
/// route would accept (DESIGN §4a: authentication comes before anything).
fn post_only(
    request: &Request<Vec<u8>>,
    id: &RequestId,
    handler: Handler,
    rule: guard::Rule,
) -> Result<Response<Vec<u8>>, ApiError> {
    if request.method() == Method::POST {
        return handler(request, id);
    }
    guard::authenticate(request, rule)?;
    Err(ApiError::method_not_allowed("POST"))
}

fn validate_route(
    request: &Request<Vec<u8>>,
    id: &RequestId,
) -> Result<Response<Vec<u8>>, ApiError> {
    if request.method() == Method::GET || request.method() == Method::HEAD {
        return validate::handle(request, id);
    }
    guard::authenticate(request, guard::any_token)?;
    Err(ApiError::method_not_allowed("GET, HEAD"))
}
