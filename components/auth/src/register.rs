//! `POST /register` `{"email","password"}` → 201 `{"user_id"}`, only while
//! the `open_registration` variable is true (admins use `POST /users`).

use clipwave_http::{json_response, ApiError, RequestId};
use clipwave_token::Role;
use http::{Request, Response, StatusCode};
use serde::Deserialize;

use crate::{
    config,
    credentials::{hash_password, Email, Password},
    db::Db,
    request, users_db,
};

/// A new account's fields, as sent.
#[derive(Deserialize)]
pub struct NewAccount {
    /// Any case, surrounding spaces allowed.
    pub email: String,
    /// 8–1024 bytes.
    pub password: String,
}

/// A validated new account.
pub struct ValidAccount {
    /// Normalised e-mail.
    pub email: Email,
    /// Checked password.
    pub password: Password,
}

impl NewAccount {
    /// Checks both fields.
    ///
    /// # Errors
    /// 400 naming the field that is wrong.
    pub fn validate(self) -> Result<ValidAccount, ApiError> {
        let email = Email::parse(&self.email)
            .ok_or_else(|| ApiError::bad_request("The e-mail address is not valid."))?;
        let password = Password::parse(self.password)
            .ok_or_else(|| ApiError::bad_request("The password must be 8 to 1024 bytes long."))?;
        Ok(ValidAccount { email, password })
    }
}

/// Creates a user; 409 if the e-mail is taken.
pub fn create(db: &Db, account: &ValidAccount, role: Role, now: u64) -> Result<String, ApiError> {
    if users_db::by_email(db, &account.email)?.is_some() {
        return Err(ApiError::conflict(
            "An account with this e-mail already exists.",
        ));
    }
    let hash = hash_password(&account.password).map_err(|error| {
        eprintln!("auth: {error:#}");
        ApiError::internal()
    })?;
    users_db::insert(db, &account.email, &hash, role, now)?
        .ok_or_else(|| ApiError::conflict("An account with this e-mail already exists."))
}

/// The 201 body.
pub fn created(user_id: &str, request_id: &RequestId) -> Response<Vec<u8>> {
    json_response(
        StatusCode::CREATED,
        &serde_json::json!({ "user_id": user_id }),
        request_id,
    )
}

/// Handles `POST /register`.
pub fn handle(
    request: &Request<Vec<u8>>,
    request_id: &RequestId,
) -> Result<Response<Vec<u8>>, ApiError> {
    if !config::flag("open_registration")? {
        return Err(ApiError::forbidden(
            "Registration is closed; ask an administrator for an account.",
        ));
    }
    let account = request::json_body::<NewAccount>(request)?.validate()?;
    let now = request::now();
    let db = Db::open()?;
    users_db::ensure_admin(&db, now)?;
    let user_id = create(&db, &account, Role::User, now)?;
    Ok(created(&user_id, request_id))
}
