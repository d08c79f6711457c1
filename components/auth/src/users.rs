//! Admin user management under `/users` (admin access token required, and
//! checked before anything else):
//!
//! | route | answer |
//! |---|---|
//! | `GET /users` | `{"users": [...]}` |
//! | `POST /users` `{"email","password","role"?}` | 201 `{"user_id"}` |
//! | `GET /users/{id}` | the user |
//! | `PATCH /users/{id}` `{"role"?, "password"?}` | the user; its sessions are revoked |
//! | `DELETE /users/{id}` | 204; its sessions are revoked at once |
//!
//! An admin cannot delete or demote themself (409), so there is always a
//! way back in.

use clipwave_http::{empty_response, json_response, ApiError, RequestId};
use clipwave_token::{is_sane_id, Role};
use http::{Method, Request, Response, StatusCode};
use serde::Deserialize;

use crate::{
    credentials::{hash_password, Password},
    db::Db,
    guard,
    register::{self, NewAccount},
    request, revoke, users_db,
};

#[derive(Deserialize)]
struct NewUser {
    #[serde(flatten)]
    account: NewAccount,
    #[serde(default)]
    role: Option<String>,
}

#[derive(Deserialize)]
struct UserChange {
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

fn role(text: Option<&str>) -> Result<Option<Role>, ApiError> {
    text.map(|t| {
        Role::parse(t).ok_or_else(|| ApiError::bad_request("role must be \"user\" or \"admin\"."))
    })
    .transpose()
}

/// Handles every method on `/users` and `/users/{id}`.
pub fn handle(
    request: &Request<Vec<u8>>,
    request_id: &RequestId,
) -> Result<Response<Vec<u8>>, ApiError> {
    let guard::Caller {
        claims: caller,
        kv,
        now,
    } = guard::authenticate(request, guard::admin)?;
    let db = Db::open()?;
    users_db::ensure_admin(&db, now)?;
    let rest = request.uri().path().trim_start_matches("/users");
    let id = rest.trim_start_matches('/');
    if id.is_empty() {
        return match *request.method() {
            Method::GET | Method::HEAD => {
                let users = users_db::list(&db)?;
                Ok(json_response(
                    StatusCode::OK,
                    &serde_json::json!({ "users": users }),
                    request_id,
                ))
            }
            Method::POST => {
                let new: NewUser = request::json_body(request)?;
                let role = role(new.role.as_deref())?.unwrap_or(Role::User);
                let account = new.account.validate()?;
                let user_id = register::create(&db, &account, role, now)?;
                Ok(register::created(&user_id, request_id))
            }
            _ => Err(ApiError::method_not_allowed("GET, HEAD, POST")),
        };
    }
    if !is_sane_id(id) {
        return Err(ApiError::not_found());
    }
    let user = users_db::by_id(&db, id)?.ok_or_else(ApiError::not_found)?;
    match *request.method() {
        Method::GET | Method::HEAD => Ok(json_response(StatusCode::OK, &user, request_id)),
        Method::PATCH => {
            let change: UserChange = request::json_body(request)?;
            let new_role = role(change.role.as_deref())?;
            let password = change
                .password
                .map(|p| {
                    Password::parse(p).ok_or_else(|| {
                        ApiError::bad_request("The password must be 8 to 1024 bytes long.")
                    })
                })
                .transpose()?;
            if user.id == caller.sub && new_role == Some(Role::User) {
                return Err(ApiError::conflict(
                    "Administrators cannot demote themselves.",
                ));
            }
            if let Some(role) = new_role {
                users_db::set_role(&db, &user.id, role, now)?;
            }
            if let Some(password) = &password {
                let hash = hash_password(password).map_err(|error| {
                    eprintln!("auth: {error:#}");
                    ApiError::internal()
                })?;
                users_db::set_password_hash(&db, &user.id, &hash, now)?;
            }
            if new_role.is_some_and(|r| r != user.role) || password.is_some() {
                revoke::all_of_user(&db, &kv, &user.id, now)?;
            }
            let user = users_db::by_id(&db, &user.id)?.ok_or_else(ApiError::not_found)?;
            Ok(json_response(StatusCode::OK, &user, request_id))
        }
        Method::DELETE => {
            if user.id == caller.sub {
                return Err(ApiError::conflict(
                    "Administrators cannot delete themselves.",
                ));
            }
            revoke::all_of_user(&db, &kv, &user.id, now)?;
            users_db::delete(&db, &user.id)?;
            Ok(empty_response(StatusCode::NO_CONTENT, request_id))
        }
        _ => Err(ApiError::method_not_allowed("GET, HEAD, PATCH, DELETE")),
    }
}
