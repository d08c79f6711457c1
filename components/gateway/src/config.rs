//! The gateway's variables (`spin.toml`), read per request.
//!
//! Spin resolves variables cheaply and a fresh instance serves every
//! request, so there is no cache to invalidate: a changed variable applies
//! to the next request. A value that is set but unreadable is a deployment
//! bug and fails the request (500, logged) rather than silently defaulting.

use anyhow::{anyhow, Context, Result};
use clipwave_token::{KeySet, Policy, Verifier};

/// How user access tokens are checked (DESIGN §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// The one-read session check in this component.
    Local,
    /// Ask `http://auth.spin.internal/validate`.
    Remote,
}

/// Reads variable `name`, with `default` when it is unset or empty.
fn variable(name: &str, default: &str) -> Result<String> {
    match spin_sdk::variables::get(name) {
        Ok(value) if !value.trim().is_empty() => Ok(value.trim().to_owned()),
        Ok(_) => Ok(default.to_owned()),
        Err(spin_sdk::variables::Error::Undefined(_)) => Ok(default.to_owned()),
        Err(error) => Err(anyhow!("Failed to read variable `{name}`: {error}")),
    }
}

fn number(name: &str, default: u64) -> Result<u64> {
    let text = variable(name, &default.to_string())?;
    text.parse()
        .with_context(|| format!("Variable `{name}` is not a whole number"))
}

/// `auth_mode`: `local` (default) or `remote`.
///
/// # Errors
/// For any other value.
pub fn auth_mode() -> Result<AuthMode> {
    match variable("auth_mode", "local")?.as_str() {
        "local" => Ok(AuthMode::Local),
        "remote" => Ok(AuthMode::Remote),
        other => Err(anyhow!(
            "Variable `auth_mode` must be local or remote, not {other:?}"
        )),
    }
}

/// `max_upload_bytes` (default 1 GiB).
///
/// # Errors
/// When it is not a whole number.
pub fn max_upload_bytes() -> Result<u64> {
    number("max_upload_bytes", 1 << 30)
}

/// `max_attempts` (default 3, at least 1).
///
/// # Errors
/// When it is not a whole number.
pub fn max_attempts() -> Result<i64> {
    Ok(i64::try_from(number("max_attempts", 3)?.max(1)).unwrap_or(i64::MAX))
}

/// `job_lease_secs` (default 120, at least 1).
///
/// # Errors
/// When it is not a whole number.
pub fn job_lease_secs() -> Result<i64> {
    Ok(i64::try_from(number("job_lease_secs", 120)?.max(1)).unwrap_or(i64::MAX))
}

/// `upload_stale_secs` (default 900, at least 1): how long an unfinished
/// blob may go without a write before the sweep counts it as abandoned.
///
/// # Errors
/// When it is not a whole number.
pub fn upload_stale_secs() -> Result<u64> {
    Ok(number("upload_stale_secs", 900)?.max(1))
}

/// A token verifier from `jwt_public_keys`, `jwt_issuer`, `jwt_audience`
/// and `clock_leeway_secs`.
///
/// # Errors
/// When the JWKS is missing or unreadable, or the leeway is not a number.
pub fn verifier() -> Result<Verifier> {
    let jwks = variable("jwt_public_keys", "")?;
    let keys = KeySet::from_jwks(&jwks)
        .map_err(|error| anyhow!("Variable `jwt_public_keys` is not a usable JWKS: {error}"))?;
    let policy = Policy {
        issuer: variable("jwt_issuer", "clipwave")?,
        audience: variable("jwt_audience", "clipwave-api")?,
        leeway_secs: number("clock_leeway_secs", 15)?,
    };
    Ok(Verifier::new(keys, policy))
}
