//! Turning server-side failures into client answers, logging the cause.
//!
//! The client gets a plain 503 or 500 body with the request id; the cause
//! chain goes to the log (never a token or a secret: callers pass store and
//! transport errors only).

use std::fmt::Display;

use clipwave_http::ApiError;

/// 503: a store or a dependency is unreachable; `doing` says what failed.
pub fn unavailable(doing: &str, error: impl Display) -> ApiError {
    eprintln!("gateway: failed to {doing}: {error:#}");
    ApiError::unavailable()
}

/// 503 for an `anyhow` chain from a store module.
pub fn store(error: anyhow::Error) -> ApiError {
    eprintln!("gateway: store failure: {error:#}");
    ApiError::unavailable()
}

/// 500: a variable is set to something unusable (a deployment bug).
pub fn misconfigured(error: anyhow::Error) -> ApiError {
    eprintln!("gateway: configuration error: {error:#}");
    ApiError::internal()
}
