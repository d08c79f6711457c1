//! `POST /token`: OAuth2 client credentials (RFC 6749 §4.4) for services.
//!
//! HTTP Basic `client_id:client_secret` plus the form body
//! `grant_type=client_credentials` → a service token (`typ=service`, no
//! refresh token). The client is authenticated first; failures are 401
//! `invalid_client` with a Basic challenge (§5.2) and count against the
//! caller's address like failed logins.

use clipwave_http::{ApiError, RequestId};
use clipwave_token::{basic_credentials, is_sane_id};
use http::{Request, Response};

use crate::{
    config,
    credentials::{burn_dummy_time, verify_password},
    issue::Issuer,
    request,
    sessions::KvSessions,
    throttle::{self, Bucket},
};

/// The `grant_type` of an `application/x-www-form-urlencoded` body.
pub fn grant_type(body: &[u8]) -> Option<String> {
    form_urlencoded::parse(body)
        .find(|(name, _)| name == "grant_type")
        .map(|(_, value)| value.into_owned())
}

/// True when `id`/`secret` are the configured worker client's.
fn client_matches(id: &str, secret: &str) -> Result<bool, ApiError> {
    let expected_id = config::optional("worker_client_id")?;
    let hash = config::optional("worker_client_secret_hash")?;
    match (expected_id, hash) {
        (Some(expected), Some(hash)) if expected.trim() == id => {
            Ok(verify_password(secret, hash.trim()))
        }
        _ => {
            burn_dummy_time(secret);
            Ok(false)
        }
    }
}

/// Handles `POST /token`.
pub fn handle(
    request: &Request<Vec<u8>>,
    request_id: &RequestId,
) -> Result<Response<Vec<u8>>, ApiError> {
    let credentials = request::authorization(request)
        .and_then(basic_credentials)
        .ok_or_else(ApiError::invalid_client)?;
    let now = request::now();
    let limits = config::throttling()?;
    let kv = KvSessions::open()?;
    let ip = request::client_ip(request);
    throttle::check(kv.store(), Bucket::Address(&ip), now, &limits)?;
    let sane = is_sane_id(&credentials.user) && credentials.password.len() <= 1024;
    if !sane || !client_matches(&credentials.user, &credentials.password)? {
        throttle::record_failure(kv.store(), Bucket::Address(&ip), now, &limits)?;
        return Err(ApiError::invalid_client());
    }
    match grant_type(request.body()).as_deref() {
        Some("client_credentials") => {}
        Some(_) => {
            return Err(ApiError::new(
                clipwave_http::ErrorCode::UnsupportedGrantType,
                "Only grant_type=client_credentials is supported.",
            ))
        }
        // RFC 6749 §5.2: a missing parameter is `invalid_request`.
        None => {
            return Err(ApiError::new(
                clipwave_http::ErrorCode::InvalidRequest,
                "grant_type is required.",
            ))
        }
    }
    let tokens = Issuer::from_config()?.service(&credentials.user, now)?;
    Ok(tokens.into_response(request_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grant_type_is_read_from_the_form_body() {
        assert_eq!(
            grant_type(b"scope=x&grant_type=client_credentials").as_deref(),
            Some("client_credentials")
        );
        assert_eq!(
            grant_type(b"grant_type=client%5Fcredentials").as_deref(),
            Some("client_credentials")
        );
        assert_eq!(grant_type(b"\xff\xfe=&&=").as_deref(), None);
    }
}
