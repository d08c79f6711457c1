//! `POST /login`: HTTP Basic (as the tutorial's `curl -u`) or JSON
//! `{"email","password"}` → a new session's token pair.
//!
//! Unknown e-mails and wrong passwords get the same 401 body after the same
//! Argon2id work; throttling is checked first and never touches a hash.

use clipwave_http::{ApiError, ErrorCode, RequestId};
use clipwave_token::basic_credentials;
use http::{Request, Response};
use serde::Deserialize;

use crate::{
    config,
    credentials::{burn_dummy_time, verify_password, Email, PASSWORD_LEN},
    db::Db,
    issue::Issuer,
    request, revoke,
    sessions::KvSessions,
    throttle::{self, Bucket},
    users_db,
};

#[derive(Deserialize)]
struct LoginBody {
    email: String,
    password: String,
}

/// Reads `(email, password)` from Basic or JSON.
fn credentials(request: &Request<Vec<u8>>) -> Result<(String, String), ApiError> {
    if let Some(header) = request::authorization(request) {
        let basic = basic_credentials(header).ok_or_else(ApiError::invalid_credentials)?;
        return Ok((basic.user, basic.password));
    }
    if request::body_is_empty(request) {
        return Err(ApiError::missing_credentials());
    }
    // DESIGN §3: anything but valid credentials is 401 (a body of the wrong
    // shape carries no credentials); only an oversized body keeps its 413.
    let body: LoginBody = request::json_body(request).map_err(|error| {
        if error.code() == ErrorCode::PayloadTooLarge {
            error
        } else {
            ApiError::invalid_credentials()
        }
    })?;
    Ok((body.email, body.password))
}

/// Handles `POST /login`.
pub fn handle(
    request: &Request<Vec<u8>>,
    request_id: &RequestId,
) -> Result<Response<Vec<u8>>, ApiError> {
    let (raw_email, password) = credentials(request)?;
    let now = request::now();
    let limits = config::throttling()?;
    let kv = KvSessions::open()?;
    let ip = request::client_ip(request);
    let email = Email::parse(&raw_email);
    let account = email.as_ref().map(|e| Bucket::Account(e.as_str()));

    throttle::check(kv.store(), Bucket::Address(&ip), now, &limits)?;
    if let Some(bucket) = account {
        throttle::check(kv.store(), bucket, now, &limits)?;
    }

    let db = Db::open()?;
    users_db::ensure_admin(&db, now)?;
    let user = match &email {
        Some(email) => users_db::by_email(&db, email)?,
        None => None,
    };
    let plausible = PASSWORD_LEN.contains(&password.len());
    let Some(user) = user else {
        burn_dummy_time(if plausible { &password } else { "" });
        throttle::record_failure(kv.store(), Bucket::Address(&ip), now, &limits)?;
        return Err(ApiError::invalid_credentials());
    };
    if !plausible || !verify_password(&password, &user.password_hash) {
        if !plausible {
            burn_dummy_time("");
        }
        throttle::record_failure(kv.store(), Bucket::Address(&ip), now, &limits)?;
        if let Some(bucket) = account {
            throttle::record_failure(kv.store(), bucket, now, &limits)?;
        }
        return Err(ApiError::invalid_credentials());
    }
    if let Some(bucket) = account {
        throttle::reset(kv.store(), bucket)?;
    }
    let leeway = config::policy()?.leeway_secs;
    revoke::clean_ended(&db, &kv, &user.id, now.saturating_sub(leeway))?;
    let tokens = Issuer::from_config()?.start_session(&db, &kv, &user, now)?;
    Ok(tokens.into_response(request_id))
}
