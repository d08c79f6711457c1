//! The component's variables (spin.toml `[component.auth.variables]`), read
//! per request and parsed once into typed values.
//!
//! A variable that cannot be read or parsed is a deployment mistake, not a
//! client's: it is logged by name (never by value) and answered with 500.

use clipwave_http::ApiError;
use clipwave_token::{KeySet, Policy, SigningKey, Verifier};
use spin_sdk::variables;

/// Reads a variable; empty strings count as unset.
pub fn optional(name: &str) -> Result<Option<String>, ApiError> {
    match variables::get(name) {
        Ok(value) if value.trim().is_empty() => Ok(None),
        Ok(value) => Ok(Some(value)),
        Err(error) => {
            eprintln!("auth: variable {name} unavailable: {error}");
            Err(ApiError::internal())
        }
    }
}

fn required(name: &str) -> Result<String, ApiError> {
    optional(name)?.ok_or_else(|| {
        eprintln!("auth: variable {name} is not set");
        ApiError::internal()
    })
}

fn number(name: &str) -> Result<u64, ApiError> {
    required(name)?.trim().parse().map_err(|_| {
        eprintln!("auth: variable {name} is not a whole number");
        ApiError::internal()
    })
}

/// True when the variable says `true` (any case).
pub fn flag(name: &str) -> Result<bool, ApiError> {
    Ok(optional(name)?.is_some_and(|v| v.trim().eq_ignore_ascii_case("true")))
}

/// Token lifetimes (`*_ttl_secs`).
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    /// `access_ttl_secs`.
    pub access: u64,
    /// `refresh_ttl_secs`.
    pub refresh: u64,
    /// `service_ttl_secs`.
    pub service: u64,
}

/// Login throttling limits.
#[derive(Debug, Clone, Copy)]
pub struct Throttling {
    /// `login_max_failures_per_account`.
    pub per_account: u64,
    /// `login_max_failures_per_address`.
    pub per_address: u64,
    /// `login_failure_window_secs`.
    pub window_secs: u64,
}

/// `jwt_issuer`, `jwt_audience`, `clock_leeway_secs`.
pub fn policy() -> Result<Policy, ApiError> {
    Ok(Policy {
        issuer: required("jwt_issuer")?,
        audience: required("jwt_audience")?,
        leeway_secs: number("clock_leeway_secs")?,
    })
}

/// The JWKS of `jwt_public_keys`.
pub fn key_set() -> Result<KeySet, ApiError> {
    KeySet::from_jwks(&required("jwt_public_keys")?).map_err(|error| {
        eprintln!("auth: jwt_public_keys: {error}");
        ApiError::internal()
    })
}

/// A verifier for `jwt_public_keys` and the policy.
pub fn verifier() -> Result<Verifier, ApiError> {
    Ok(Verifier::new(key_set()?, policy()?))
}

/// The private key of `jwt_signing_key`; its `kid` must be in the JWKS, or
/// nothing it signs could ever be checked.
pub fn signing_key() -> Result<SigningKey, ApiError> {
    let key = SigningKey::from_jwk(&required("jwt_signing_key")?).map_err(|error| {
        eprintln!("auth: jwt_signing_key: {error}");
        ApiError::internal()
    })?;
    if !key_set()?.contains(key.kid()) {
        eprintln!("auth: jwt_signing_key's kid is not listed in jwt_public_keys");
        return Err(ApiError::internal());
    }
    Ok(key)
}

/// The three lifetimes.
pub fn lifetimes() -> Result<Lifetimes, ApiError> {
    Ok(Lifetimes {
        access: number("access_ttl_secs")?,
        refresh: number("refresh_ttl_secs")?,
        service: number("service_ttl_secs")?,
    })
}

/// The throttling limits.
pub fn throttling() -> Result<Throttling, ApiError> {
    Ok(Throttling {
        per_account: number("login_max_failures_per_account")?,
        per_address: number("login_max_failures_per_address")?,
        window_secs: number("login_failure_window_secs")?.max(1),
    })
}
